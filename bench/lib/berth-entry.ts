/**
 * How the start-up benches run Berth: as a user does after `npm start` — compiled JavaScript, no
 * TypeScript loader. bin/berth runs dist/ only while it is newer than every source file; in a
 * checkout being edited it falls back to the sources through tsx, which compiles ~450 modules on
 * import and doubles the start time. Then the working tree is compiled once into a private
 * .cache/bench-dist (as scripts/build.sh does, without touching dist/, emitting even with type
 * errors elsewhere) and run from there. BENCH_FROM_SOURCE=1 measures the tsx path instead.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './server.ts';

const BERTH_BIN = path.join(REPO_ROOT, 'bin', 'berth');
const PRIVATE_DIST = path.join(REPO_ROOT, '.cache', 'bench-dist');

export interface BerthEntry {
  /** Arguments to `node` before berth's own (the script to run). */
  script: string;
  /** What runs, for the tables. */
  describe: string;
}

/** Newest modification time of a non-doc file under dir (bin/berth's rule). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (!e.name.endsWith('.md')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function freshAgainstSources(marker: string): boolean {
  try {
    return statSync(marker).mtimeMs >= newest(path.join(REPO_ROOT, 'src'));
  } catch {
    return false;
  }
}

let cached: BerthEntry | undefined;

/** The entry point to start Berth from (building the private copy first if dist/ is stale). */
export function berthEntry(): BerthEntry {
  if (cached) return cached;
  if (process.env.BENCH_FROM_SOURCE === '1') {
    return (cached = { script: BERTH_BIN, describe: 'bin/berth from the sources (tsx), BENCH_FROM_SOURCE=1' });
  }
  if (!process.env.BERTH_FROM_SOURCE && freshAgainstSources(path.join(REPO_ROOT, 'dist', '.built'))) {
    return (cached = { script: BERTH_BIN, describe: 'bin/berth → dist/' });
  }
  const main = path.join(PRIVATE_DIST, 'src', 'cli', 'main.js');
  if (!freshAgainstSources(path.join(PRIVATE_DIST, '.built'))) {
    const tmp = `${PRIVATE_DIST}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    const t0 = performance.now();
    try {
      execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', tmp], { cwd: REPO_ROOT, stdio: 'pipe' });
    } catch {
      // Type errors in files being edited elsewhere: tsc emits anyway, which is what matters here.
    }
    if (!existsSync(path.join(tmp, 'src', 'cli', 'main.js'))) throw new Error('bench: compiling the working tree emitted no src/cli/main.js');
    copyFileSync(path.join(REPO_ROOT, 'src', 'apis', 'openapi', 'definitions.json'), path.join(tmp, 'src', 'apis', 'openapi', 'definitions.json'));
    writeFileSync(path.join(tmp, '.built'), '');
    rmSync(PRIVATE_DIST, { recursive: true, force: true });
    renameSync(tmp, PRIVATE_DIST);
    console.log(`  (dist/ is older than src/: compiled the working tree into .cache/bench-dist in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return (cached = { script: main, describe: 'the working tree compiled (.cache/bench-dist; dist/ was stale)' });
}
