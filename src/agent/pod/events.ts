/**
 * Records core/v1 Events about pods the way the kubelet's recorder does (client-go record +
 * EventCorrelator): the name is `<object>.<hex nanoseconds>`, the source is the kubelet on this
 * node, and a repeat of the same (object, type, reason, message) within the window bumps `count`
 * and `lastTimestamp` on the existing Event instead of creating another one.
 */
import type { KubeObject } from '../../apis/object.ts';
import { rfc3339 } from '../../apis/time.ts';

/** Where events go (the agent wires these to the client's create/patch on `events`). */
export interface EventSink {
  create(namespace: string, event: KubeObject): Promise<KubeObject>;
  patch(namespace: string, name: string, patch: { count: number; lastTimestamp: string; message: string }): Promise<KubeObject>;
}

export interface EventRecorderOptions {
  /** Node name: `source.host` and `reportingInstance`. */
  node: string;
  sink: EventSink;
  /** Repeats within this window are aggregated (default 10 min). */
  windowMs?: number;
  /** Bound on remembered events (default 4096, as client-go's LRU). */
  maxEntries?: number;
  now?: () => Date;
  /** Failures never reach the caller; they land here (default: ignored). */
  onError?: (err: unknown) => void;
}

export type EventType = 'Normal' | 'Warning';

interface Seen {
  name: string;
  namespace: string;
  count: number;
  lastAt: number;
}

/** `spec.containers{name}` / `spec.initContainers{name}`: the fieldPath the kubelet uses for a container. */
export function containerFieldPath(pod: KubeObject, containerName: string): string {
  const isInit = (pod.spec?.initContainers ?? []).some((c: any) => c?.name === containerName);
  return `${isInit ? 'spec.initContainers' : 'spec.containers'}{${containerName}}`;
}

let lastNanos = 0n;
/** Unix time in ns, strictly increasing within this process so names never collide. */
function uniqueNanos(now: Date): bigint {
  let n = BigInt(now.getTime()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (n <= lastNanos) n = lastNanos + 1n;
  lastNanos = n;
  return n;
}

/** Emits and aggregates Events; one per agent. */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  // Serialises writes per key so concurrent repeats aggregate instead of racing to create.
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => Date;

  constructor(private readonly opts: EventRecorderOptions) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 4096;
    this.now = opts.now ?? (() => new Date());
  }

  /** Records an event about `obj` (a pod, usually); `fieldPath` names a container within it. Never rejects. */
  event(obj: KubeObject, type: EventType, reason: string, message: string, opts: { fieldPath?: string } = {}): Promise<void> {
    const ref = {
      kind: obj.kind ?? 'Pod',
      namespace: obj.metadata.namespace ?? 'default',
      name: obj.metadata.name ?? '',
      uid: obj.metadata.uid ?? '',
      apiVersion: obj.apiVersion ?? 'v1',
      resourceVersion: obj.metadata.resourceVersion ?? '',
      ...(opts.fieldPath ? { fieldPath: opts.fieldPath } : {}),
    };
    const key = JSON.stringify([ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion, ref.fieldPath ?? '', type, reason, message]);
    const prev = this.inflight.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.write(key, ref, type, reason, message)).catch((err) => this.opts.onError?.(err));
    this.inflight.set(key, next);
    void next.then(() => {
      if (this.inflight.get(key) === next) this.inflight.delete(key);
    });
    return next;
  }

  /** Number of remembered (aggregatable) events. */
  get size(): number {
    return this.seen.size;
  }

  private async write(key: string, ref: Record<string, string>, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.now();
    const ts = rfc3339(now);
    const prior = this.seen.get(key);
    if (prior && now.getTime() - prior.lastAt <= this.windowMs) {
      try {
        await this.opts.sink.patch(prior.namespace, prior.name, { count: prior.count + 1, lastTimestamp: ts, message });
        prior.count++;
        prior.lastAt = now.getTime();
        this.touch(key, prior);
        return;
      } catch {
        // The event expired or was deleted: fall through and create a fresh one, as client-go does.
      }
    }
    const name = `${ref.name}.${uniqueNanos(now).toString(16)}`;
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ref.namespace },
      involvedObject: ref,
      reason,
      message,
      type,
      source: { component: 'kubelet', host: this.opts.node },
      reportingComponent: 'kubelet',
      reportingInstance: this.opts.node,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
    };
    this.seen.delete(key);
    await this.opts.sink.create(ref.namespace, event);
    this.touch(key, { name, namespace: ref.namespace, count: 1, lastAt: now.getTime() });
  }

  /** Moves `key` to the most-recent end and evicts the oldest beyond the bound. */
  private touch(key: string, entry: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, entry);
    while (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
  }
}
