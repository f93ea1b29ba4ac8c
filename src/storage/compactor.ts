/**
 * Periodic compaction: keeps the last `keepRevisions` revisions of history (enough for watches that
 * reconnect or lists that page slowly) and forgets the rest.
 */
import type { Backend } from './backend.ts';

/** Tuning for `startCompactor`. */
export interface CompactorOptions {
  /** Time between compactions (ms). Default 5 minutes. */
  intervalMs?: number;
  /** Revisions of history kept below the current one. Default 10,000. */
  keepRevisions?: number;
  /** Called when a compaction fails; the next interval retries. Default: ignore. */
  onError?(err: Error): void;
}

/** A running compactor. */
export interface Compactor {
  stop(): void;
}

/** Compacts `backend` to `current - keepRevisions` every `intervalMs`; `stop()` ends it. */
export function startCompactor(backend: Backend, opts: CompactorOptions = {}): Compactor {
  const intervalMs = opts.intervalMs ?? 300_000;
  const keep = opts.keepRevisions ?? 10_000;
  let running = false;
  const timer = setInterval(() => {
    // Skip a tick rather than stack compactions when one takes longer than the interval.
    if (running) return;
    running = true;
    void compactOnce(backend, keep)
      .catch((err: Error) => opts.onError?.(err))
      .finally(() => { running = false; });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** One compaction step: to `current - keep` if that is above what is already compacted. */
export async function compactOnce(backend: Backend, keep: number): Promise<number | undefined> {
  const target = (await backend.currentRevision()) - keep;
  if (target <= 0 || target <= (await backend.compactedRevision())) return undefined;
  await backend.compact(target);
  return target;
}
