/**
 * Bind-mount targets live on the host file system (no private root fs), so a missing target has to
 * be created on the host: a directory for a directory source, an empty file for a file source.
 * What is created is recorded and removed again on destroy (only if still empty).
 */
import { existsSync, mkdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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

/** Removes created mount points, children first; keeps anything someone has put content in. */
export function removeMountPoints(created: string[]): void {
  for (const p of [...created].reverse()) {
    try {
      const st = statSync(p);
      if (st.isDirectory()) rmdirSync(p);
      else if (st.size === 0) unlinkSync(p);
    } catch {
      /* gone, or not empty: leave it */
    }
  }
}
