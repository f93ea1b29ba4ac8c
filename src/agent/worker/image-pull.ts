/**
 * Image pulls for one pod, with the kubelet's states and events (pkg/kubelet/images/image_manager.go):
 *
 *   present, policy ≠ Always ─▶ Pulled "already present on machine"
 *   else ─▶ Pulling ─▶ ok:   Pulled "Successfully pulled image … in 1.2s … Image size: N bytes."
 *                     └─▶ fail: waiting ErrImagePull (+ Failed events), back-off 10 s doubling to 5 min;
 *                               retries inside the back-off: waiting ImagePullBackOff (+ BackOff event)
 *   Never and missing ─▶ waiting ErrImageNeverPull
 *
 * Credentials come from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson or dockercfg).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ImageInfo, PullPolicy } from '../images/image-service.ts';
import type { PullSecret } from '../images/registry-auth.ts';
import { secretBytes, type ObjectLookup } from '../pod/lookup.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import { containerFieldPath } from '../pod/container-field-path.ts';

/** The part of the ImageService a worker uses. */
export interface ImageSource {
  get(ref: string): Promise<ImageInfo | undefined>;
  ensure(ref: string, policy: PullPolicy, opts: { pullSecrets?: PullSecret[] }): Promise<ImageInfo>;
}

export type PullOutcome =
  | { image: ImageInfo }
  | { waiting: { reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string }; retryMs: number };

interface Backoff { delayMs: number; notBefore: number; message: string }

export class PodImagePuller {
  private readonly backoff = new Map<string, Backoff>();

  constructor(
    private readonly images: ImageSource,
    private readonly recorder: EventRecorder,
    private readonly lookup: ObjectLookup,
    private readonly opts: { baseMs: number; capMs: number },
  ) {}

  /** Pull secrets of the pod, as dockerconfigjson documents (missing ones are skipped, as the kubelet does). */
  private async pullSecrets(pod: KubeObject): Promise<PullSecret[]> {
    const out: PullSecret[] = [];
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      if (!ref?.name) continue;
      const secret = await this.lookup.secret(pod.metadata.namespace!, ref.name).catch(() => undefined);
      if (!secret) continue;
      const data = secretBytes(secret);
      const doc = data.get('.dockerconfigjson') ?? data.get('.dockercfg');
      if (doc) out.push(doc.toString('utf8'));
    }
    return out;
  }

  async pull(pod: KubeObject, container: { name: string; image?: string; imagePullPolicy?: string }): Promise<PullOutcome> {
    const ref = container.image ?? '';
    const fieldPath = containerFieldPath(pod, container.name);
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) => void this.recorder.event(pod, type, reason, message, { fieldPath });
    if (!ref.trim()) {
      const message = `Failed to apply default image tag "${ref}": couldn't parse image name "${ref}": invalid reference format`;
      event('Warning', 'InspectFailed', message);
      return { waiting: { reason: 'InvalidImageName', message }, retryMs: this.opts.capMs };
    }
    const policy = (container.imagePullPolicy ?? 'IfNotPresent') as PullPolicy;
    const key = `${pod.metadata.uid}/${ref}`;
    if (policy !== 'Always') {
      const have = await this.images.get(ref).catch(() => undefined);
      if (have) {
        event('Normal', 'Pulled', `Container image "${ref}" already present on machine`);
        this.backoff.delete(key);
        return { image: have };
      }
      if (policy === 'Never') {
        const message = `Container image "${ref}" is not present with pull policy of Never`;
        event('Warning', 'ErrImageNeverPull', message);
        return { waiting: { reason: 'ErrImageNeverPull', message }, retryMs: this.opts.capMs };
      }
    }
    const b = this.backoff.get(key);
    const now = Date.now();
    if (b && now < b.notBefore) {
      event('Normal', 'BackOff', `Back-off pulling image "${ref}"`);
      event('Warning', 'Failed', 'Error: ImagePullBackOff');
      // As the kubelet (1.30+) words the waiting message: the back-off, then the last pull error.
      const message = `Back-off pulling image "${ref}": ErrImagePull: ${b.message}`;
      return { waiting: { reason: 'ImagePullBackOff', message }, retryMs: b.notBefore - now };
    }
    event('Normal', 'Pulling', `Pulling image "${ref}"`);
    const t0 = performance.now();
    try {
      const image = await this.images.ensure(ref, policy, { pullSecrets: await this.pullSecrets(pod) });
      const secs = ((performance.now() - t0) / 1000).toFixed(3);
      event('Normal', 'Pulled', `Successfully pulled image "${ref}" in ${secs}s (${secs}s including waiting). Image size: ${image.size} bytes.`);
      this.backoff.delete(key);
      return { image };
    } catch (err) {
      const message = `Failed to pull image "${ref}": ${(err as Error).message}`;
      event('Warning', 'Failed', message);
      event('Warning', 'Failed', 'Error: ErrImagePull');
      const delayMs = b ? Math.min(b.delayMs * 2, this.opts.capMs) : this.opts.baseMs;
      this.backoff.set(key, { delayMs, notBefore: Date.now() + delayMs, message: (err as Error).message });
      return { waiting: { reason: 'ErrImagePull', message }, retryMs: delayMs };
    }
  }

  /** Forgets a pod's back-off entries (pod gone). */
  forget(podUid: string): void {
    for (const k of this.backoff.keys()) if (k.startsWith(`${podUid}/`)) this.backoff.delete(k);
  }
}
