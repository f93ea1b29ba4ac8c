/**
 * The node flags bin/berth's first line gives the process (`#!/usr/bin/env -S node FLAGS`): the
 * benches spawn `node … bin/berth` (to add BENCH_SERVER_NODE_ARGS), which skips the shebang, so
 * they prepend these to start the server as a user's `berth` runs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'berth');

export function berthNodeFlags(): string[] {
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node(?<flags>(?: --[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  if (!m) throw new Error(`bin/berth's first line is not "#!/usr/bin/env -S node [--flag…]": ${first}`);
  return m.groups!.flags.split(' ').filter(Boolean);
}
