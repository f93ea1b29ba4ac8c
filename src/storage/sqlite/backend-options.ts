/** What the SQLite backend is configured with, and what it reports beyond a Backend's verbs. */
import type { Backend } from '../backend.ts';
import type { CheckpointStats } from './checkpointer.ts';
import type { GroupCommitOptions } from './group-commit.ts';
import type { Synchronous } from './schema.ts';

/** Options of the SQLite backend. */
export interface SqliteBackendOptions {
  /** How often watchers get `onProgress` (ms). Default 1000. */
  progressIntervalMs?: number;
  /** How often to look for rows written by another process (ms). Default 1000. */
  pollIntervalMs?: number;
  /** Durability. Default FULL: every commit is fsynced before it is acknowledged; NORMAL: only at checkpoints. */
  synchronous?: Synchronous;
  /**
   * How FULL syncs: 'async' (default) fdatasyncs the WAL on the thread pool after the commit and
   * acknowledges then (the loop goes on meanwhile); 'inline' is SQLite's own FULL, an fsync inside
   * COMMIT that blocks the loop (kept for measurements).
   */
  walSync?: 'async' | 'inline';
  /** Group commit tuning (window, group size). */
  groupCommit?: GroupCommitOptions;
  /**
   * Who checkpoints the WAL: 'worker' (default) a worker thread, every `checkpointIntervalMs`
   * (checkpointer.ts); 'inline' SQLite's auto-checkpoint inside the COMMIT that fills 1,000 pages, on
   * the event loop (kept for measurements).
   */
  checkpoint?: 'worker' | 'inline';
  /** How often the worker checkpoints (ms). Default 250. */
  checkpointIntervalMs?: number;
}

/** The SQLite backend with its group commit counters. */
export interface SqliteBackend extends Backend {
  /** Groups committed, writes in them, the largest group so far and the WAL syncs run off the loop. */
  groupStats(): { groups: number; writes: number; largest: number; syncs: number };
  /** What the checkpoint worker did (undefined without one). */
  checkpointStats(): CheckpointStats | undefined;
  /** Watches open on this backend's hub. */
  watchCount(): number;
}
