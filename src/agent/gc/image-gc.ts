/**
 * Image garbage collection under disk pressure, as the kubelet's image GC manager does: every
 * interval, when the file system holding the image store is fuller than `highPct` (kubelet default
 * imageGCHighThresholdPercent 85), remove every image no pod on this node uses, then the content
 * no image references. (The kubelet removes least-recently-used images until usage falls under its
 * low threshold; Berth removes all unused ones at once — simpler, and a re-pull is what either costs.)
 */
import { statfs } from 'node:fs/promises';
import type { Logger } from '../../util/log.ts';

export interface ImageGcTarget {
  get(ref: string): Promise<{ id: string; digest: string; manifestDigest: string } | undefined>;
  gc(keep: Set<string>): Promise<{ images: number; blobs: number; layers: number }>;
}

export interface ImageGcOptions {
  images: ImageGcTarget;
  /** A directory on the image store's file system. */
  dir: string;
  /** Image references of every container of every pod on this node. */
  inUse(): string[];
  log: Logger;
  highPct?: number;
  intervalMs?: number;
  /** Used percentage of the file system holding `dir` (tests fake it). */
  usage?(dir: string): Promise<number>;
}

export interface ImageGc {
  /** One check; the GC result when it ran, undefined when usage was under the threshold. */
  runOnce(): Promise<{ usedPct: number; images: number; blobs: number; layers: number } | undefined>;
  stop(): void;
}

async function usedPercent(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.blocks > 0 ? (100 * (s.blocks - s.bfree)) / s.blocks : 0;
}

export function startImageGc(opts: ImageGcOptions): ImageGc {
  const highPct = opts.highPct ?? 85;
  const usage = opts.usage ?? usedPercent;
  let running: Promise<unknown> | undefined;
  const runOnce: ImageGc['runOnce'] = async () => {
    const usedPct = await usage(opts.dir);
    if (usedPct < highPct) return undefined;
    const keep = new Set<string>();
    for (const ref of new Set(opts.inUse())) {
      const img = await opts.images.get(ref).catch(() => undefined);
      if (img) for (const d of [img.id, img.digest, img.manifestDigest]) keep.add(d);
    }
    const result = await opts.images.gc(keep);
    opts.log.info('image garbage collection (disk pressure)', { usedPct: Math.round(usedPct), highPct, ...result });
    return { usedPct, ...result };
  };
  const timer = setInterval(() => {
    if (running) return;
    running = runOnce().catch((err) => opts.log.warn('image garbage collection failed', { error: String(err) })).finally(() => (running = undefined));
  }, opts.intervalMs ?? 5 * 60_000);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
