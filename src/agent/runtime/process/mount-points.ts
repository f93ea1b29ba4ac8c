/**
 * Bind-mount targets live on the host file system (no private root fs), so a missing target has to
 * be created on the host: a directory for a directory source, an empty file for a file source.
 * What is created is recorded and removed again on destroy (only if still empty) — unless another
 * container still mounts something there: since Linux 3.18, removing a directory that is a mount point
 * in other mount namespaces detaches those mounts, so two pods mounting at `/data` would lose their
 * volumes when the first of them went.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Mount } from '../driver.ts';

/** Checks the sources exist; creates missing targets; returns the created paths, parents first. */
export function prepareMountPoints(mounts: Mount[]): string[] {
  for (const m of mounts) {
    if (!existsSync(m.hostPath)) throw new Error(`mount: source ${m.hostPath} does not exist`);
    if (!m.containerPath.startsWith('/')) throw new Error(`mount: target ${m.containerPath} must be absolute`);
  }
  const created: string[] = [];
  try {
    for (const m of mounts) {
      if (existsSync(m.containerPath)) continue;
      const missing: string[] = [];
      for (let p = dirname(m.containerPath); !existsSync(p); p = dirname(p)) missing.unshift(p);
      for (const p of missing) {
        mkdirSync(p);
        created.push(p);
      }
      if (statSync(m.hostPath).isDirectory()) mkdirSync(m.containerPath);
      else writeFileSync(m.containerPath, '', { flag: 'wx' });
      created.push(m.containerPath);
    }
  } catch (err) {
    removeMountPoints(created);
    throw err;
  }
  return created;
}

/** The mount points in the mount namespaces of these processes (from /proc/<pid>/mountinfo). */
export function mountPointsOf(pids: number[]): Set<string> {
  const out = new Set<string>();
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  for (const pid of pids) {
    let info = '';
    try { info = readFileSync(`/proc/${pid}/mountinfo`, 'utf8'); } catch { continue; }
    for (const line of info.split('\n')) {
      const point = line.split(' ')[4];
      if (point) out.add(unescape(point));
    }
  }
  return out;
}

/**
 * Removes created mount points, children first; keeps anything someone has put content in, and any
 * path that is (or holds) a mount point in `inUse` — other containers' mount namespaces.
 */
export function removeMountPoints(created: string[], inUse: ReadonlySet<string> = new Set()): void {
  const used = (p: string) => inUse.has(p) || [...inUse].some((m) => m.startsWith(p + '/'));
  for (const p of [...created].reverse()) {
    if (used(p)) continue;
    try {
      const st = statSync(p);
      if (st.isDirectory()) rmdirSync(p);
      else if (st.size === 0) unlinkSync(p);
    } catch {
      /* gone, or not empty: leave it */
    }
  }
}
