/**
 * Makes the SQLite WAL durable off the event loop: an fdatasync of the `-wal` file on libuv's thread
 * pool, shared by every commit made before it started — as PostgreSQL's WAL flush serves many
 * committing backends at once, and etcd's backend fsyncs one batch while the next one fills.
 *
 * Why not SQLite's own `synchronous=FULL`: it fsyncs inside COMMIT, on the one JavaScript thread, so
 * every commit group blocked the whole server for an fsync (3–5 ms on this machine's disk, more under
 * others' I/O): no request was read, no watch served meanwhile. In WAL mode FULL differs from NORMAL
 * only by that sync of the WAL at each commit (the header sync when the WAL restarts, the syncs
 * around a checkpoint and the directory sync of a new WAL happen in both), so NORMAL plus this sync
 * before a write is acknowledged is as durable as FULL, and the loop goes on taking and committing
 * the next writes while the disk works.
 */
import { close, closeSync, fdatasync, fdatasyncSync, open, openSync } from 'node:fs';

interface Waiter { resolve(): void; reject(err: Error): void }

/** Coalescing syncs of one file: at most one in flight, the next one shared by all who asked meanwhile. */
export class WalSync {
  private running = false;
  /** Waiting for the sync in flight (or about to start). */
  private current: Waiter[] = [];
  /** Arrived while a sync was in flight: it may have started before their writes, so they wait for the next. */
  private queued: Waiter[] = [];
  /** Syncs run, for tests and benchmarks. */
  syncs = 0;
  /**
   * The WAL, opened at the first sync and kept: SQLite deletes the WAL only when its last connection
   * closes, and the backend's connection stays open until close(), so this stays the WAL's inode.
   */
  private fd: number | undefined;
  private closeWhenIdle = false;

  constructor(private readonly path: string) {}

  /** Resolves once everything written to the file before this call is on disk. */
  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      (this.running ? this.queued : this.current).push({ resolve, reject });
      if (!this.running) this.run();
    });
  }

  /** The same, synchronously (on close, when the loop may not turn again). */
  syncNow(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return; // no WAL: nothing written through it
      throw err;
    }
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private run(): void {
    this.running = true;
    this.syncs++;
    const batch = this.current;
    this.current = [];
    const sync = (fd: number) => fdatasync(fd, (err) => this.finish(batch, err));
    if (this.fd !== undefined) return sync(this.fd);
    open(this.path, 'r', (err, fd) => {
      if (err) return this.finish(batch, err);
      this.fd = fd;
      sync(fd);
    });
  }

  /** Closes the WAL's descriptor (the backend's close, after the last sync). */
  close(): void {
    this.closeWhenIdle = true;
    if (this.fd === undefined || this.running) return;
    const fd = this.fd;
    this.fd = undefined;
    close(fd, () => {});
  }

  private finish(batch: Waiter[], err: Error | null): void {
    this.running = false;
    if (this.queued.length) {
      this.current = this.queued;
      this.queued = [];
      this.run();
    } else if (this.closeWhenIdle) {
      this.close();
    }
    for (const w of batch) if (err) w.reject(err); else w.resolve();
  }
}
