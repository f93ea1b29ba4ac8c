/**
 * The agent's local heartbeat for self-fencing (issue 16; no kubelet equivalent): after each
 * successful node Lease renewal the agent writes `<data dir>/lease-heartbeat` (HEARTBEAT_FILE), and
 * every stateful container's shim (native/shim/fence.c) kills its container once the file is older
 * than fenceAfter. The time written is when the renewal was *sent* — the control plane counts from
 * the renewal it received, which cannot be later — on CLOCK_MONOTONIC, which Node's hrtime and the
 * shim's clock_gettime read alike (immune to wall-clock steps).
 *
 * The heartbeat starts disarmed: a restarted agent writes nothing until it has stopped what the
 * cluster moved away meanwhile (worker/fence-guard.ts), so no leftover is kept alive by a fresh beat.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEARTBEAT_FILE } from '../../apis/volumes/replicated.ts';

/** CLOCK_MONOTONIC in milliseconds (process.hrtime: libuv's uv_hrtime reads CLOCK_MONOTONIC on Linux). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** Writes `monoMs` into the heartbeat file atomically (a shim never reads half a number). */
export function writeHeartbeat(path: string, monoMs: number): void {
  writeFileSync(`${path}.tmp`, `${monoMs}\n`, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

/** The heartbeat of an agent whose data dir is `dataDir`. */
export function heartbeatPath(dataDir: string): string {
  return join(dataDir, HEARTBEAT_FILE);
}

/**
 * The heartbeat as the Lease loop drives it: `renewed(sentAt)` after each successful renewal writes
 * it only once armed; `arm()` (after the start-up or reconnection sweep) writes the last renewal's
 * time at once. `hold()` disarms it again (a reconnection: nothing is vouched for until swept).
 */
export class Heartbeat {
  private armed = false;
  private lastSentAt: number | undefined;

  constructor(readonly path: string, private readonly onError?: (err: Error) => void) {}

  renewed(sentAt: number): void {
    this.lastSentAt = sentAt;
    if (this.armed) this.write(sentAt);
  }

  arm(): void {
    this.armed = true;
    if (this.lastSentAt !== undefined) this.write(this.lastSentAt);
  }

  hold(): void {
    this.armed = false;
  }

  get isArmed(): boolean {
    return this.armed;
  }

  private write(at: number): void {
    try {
      writeHeartbeat(this.path, at);
    } catch (err) {
      // Not fatal here: the shims see a stale heartbeat and fence, which is the safe side.
      this.onError?.(err as Error);
    }
  }
}
