/**
 * One pod's volumes while its worker lives, as the kubelet's volume manager keeps them: set up
 * before the first container, then ConfigMap, Secret, downward API and projected content kept in
 * step with the API (rewritten every sync period) and ServiceAccount tokens replaced once 80 % of
 * their life has passed (the token manager); the next rewrite is due at the sooner of the two.
 */
import type { KubeObject } from '../../apis/object.ts';
import { prepareVolumes, cleanupVolumes, updateVolumes, type PreparedVolumes, type VolumeContext } from '../pod/volumes.ts';
import { isProjectedKind } from '../pod/volume-payloads.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** How often API-sourced volume content is rewritten when it changed (the kubelet's sync period); tokens are renewed when due. */
const VOLUME_RESYNC_MS = 60_000;

/** What the volumes need from their worker: the pod as it is now, and whether it still runs. */
export interface VolumeOwner {
  readonly pod: KubeObject;
  readonly uid: string;
  readonly key: string;
  context(): VolumeContext;
  /** False once the pod terminates or finishes: no more refreshes. */
  live(): boolean;
}

export class PodVolumes {
  private prepared?: PreparedVolumes;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly owner: VolumeOwner, private readonly deps: Pick<WorkerDeps, 'recorder' | 'log' | 'tokens'>) {}

  /** Host paths by volume name (after a successful `ensure`). */
  get paths(): PreparedVolumes['paths'] {
    return this.prepared!.paths;
  }

  /** Sets the volumes up once; false (and a FailedMount event) while one cannot be. */
  async ensure(): Promise<boolean> {
    if (this.prepared) return true;
    const vols = await prepareVolumes(this.owner.pod, this.owner.context());
    if (vols.errors.length) {
      await this.deps.recorder.event(this.owner.pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed: ${vols.errors.join('; ')}`);
      return false;
    }
    this.prepared = vols;
    this.scheduleRefresh();
    return true;
  }

  private scheduleRefresh(): void {
    if (this.timer || this.stopped || !this.owner.live() || !(this.owner.pod.spec?.volumes ?? []).some((v: Record<string, any>) => isProjectedKind(v))) return;
    const tokenDue = this.deps.tokens.nextRefresh(this.owner.uid);
    const delay = Math.max(1000, Math.min(VOLUME_RESYNC_MS, tokenDue === undefined ? VOLUME_RESYNC_MS : tokenDue - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, delay);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    if (this.stopped || !this.owner.live() || !this.prepared) return;
    try {
      const r = await updateVolumes(this.owner.pod, this.owner.context());
      if (r.errors.length) await this.deps.recorder.event(this.owner.pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed: ${r.errors.join('; ')}`);
    } catch (err) {
      this.deps.log.warn('volume refresh failed', { pod: this.owner.key, error: (err as Error).message });
    }
    this.scheduleRefresh();
  }

  /** No more refreshes (termination). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops refreshing, removes the volumes' directories under the pod dir and forgets the pod's tokens. */
  async cleanup(volumesDir: string): Promise<void> {
    this.stop();
    await cleanupVolumes(volumesDir).catch((err) => this.deps.log.warn('volume cleanup failed', { pod: this.owner.key, error: String(err) }));
    this.deps.tokens.forget(this.owner.uid);
  }
}
