/**
 * CrashLoopBackOff bookkeeping per container, with the kubelet's numbers: the first restart waits
 * 10 s, each further crash doubles the wait up to 5 min, and a container that ran for 10 min
 * (twice the cap, as client-go's flowcontrol.Backoff expires entries) starts over from 10 s.
 */

/** Tunables; tests shrink them. */
export interface BackoffOptions {
  /** First delay (default 10 000 ms). */
  baseMs?: number;
  /** Largest delay (default 300 000 ms). */
  capMs?: number;
  /** A run at least this long forgets earlier crashes (default 2 × capMs). */
  resetAfterMs?: number;
}

interface Entry {
  delayMs: number;
  lastExitAt: number;
  notBefore: number;
}

/** Per-key (usually `<pod-uid>/<container>`) restart delays. */
export class CrashLoopBackoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly resetAfterMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 10_000;
    this.capMs = opts.capMs ?? 300_000;
    this.resetAfterMs = opts.resetAfterMs ?? 2 * this.capMs;
  }

  /**
   * Records that the container exited at `finishedAt` after starting at `startedAt` (if known);
   * returns the delay before the next start is allowed, in ms.
   */
  recordExit(key: string, finishedAt: Date, startedAt?: Date): number {
    const end = finishedAt.getTime();
    const prev = this.entries.get(key);
    const ranFor = startedAt ? end - startedAt.getTime() : prev ? end - prev.lastExitAt : 0;
    // As the kubelet: the first crash restarts at once; then 10 s, 20 s, … up to the cap.
    let delayMs: number;
    if (!prev || ranFor >= this.resetAfterMs) delayMs = 0;
    else delayMs = Math.min(Math.max(prev.delayMs * 2, this.baseMs), this.capMs);
    this.entries.set(key, { delayMs, lastExitAt: end, notBefore: end + delayMs });
    return delayMs;
  }

  /** When the container may start again; undefined when there is no back-off for it. */
  nextStartAllowedAt(key: string): Date | undefined {
    const e = this.entries.get(key);
    return e ? new Date(e.notBefore) : undefined;
  }

  /** True while a restart must wait (the worker then reports waiting/CrashLoopBackOff). */
  inBackoff(key: string, now: Date = new Date()): boolean {
    const e = this.entries.get(key);
    return !!e && now.getTime() < e.notBefore;
  }

  /** The kubelet's waiting message: `back-off 20s restarting failed container=… pod=…`. */
  message(key: string, container: string, podDesc: string): string {
    const e = this.entries.get(key);
    return `back-off ${formatDuration(e?.delayMs ?? this.baseMs)} restarting failed container=${container} pod=${podDesc}`;
  }

  /** Forgets the key (container removed, pod deleted, or spec changed). */
  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every key not in `keep` (call with the live containers to bound memory). */
  retain(keep: Iterable<string>): void {
    const live = new Set(keep);
    for (const k of this.entries.keys()) if (!live.has(k)) this.entries.delete(k);
  }
}

/** Go-style duration ("10s", "5m0s", "2m40s") for messages. */
function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 1000 ? `${ms}ms` : `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60}s`;
}

/** `10s`, `5m0s` — the back-off delay in CrashLoopBackOff messages. */
export function formatDelay(secs: number): string {
  if (secs < 60) return `${secs}s`;
  const m = Math.floor(secs / 60);
  const s = secs % 60;
  return s ? `${m}m${s}s` : `${m}m0s`;
}
