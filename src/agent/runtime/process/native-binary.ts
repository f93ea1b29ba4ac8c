/**
 * The agent's two small C programs, native/NAME.c compiled with the machine's C compiler into
 * native/build/NAME: the container shim (berth-shim) and the spawn helper (berth-spawner).
 * scripts/build.sh compiles them; this module compiles one again when it is missing or older than
 * its source (a source checkout run through tsx), once per process, into a temporary name renamed
 * into place — so concurrent agents and test files never see half a file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findHostTool } from './host-tools.ts';

export type NativeProgram = 'berth-shim' | 'berth-spawner';

/** The repository's native/ folder: from src/… (tsx) or dist/src/… (compiled) alike. */
function nativeDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'native', 'berth-shim.c'))) return join(dir, 'native');
    dir = dirname(dir);
  }
  throw new Error('native programs: native/berth-shim.c not found above ' + fileURLToPath(import.meta.url));
}

const mtime = (p: string) => { try { return statSync(p).mtimeMs; } catch { return -1; } };

/**
 * Compiles `source` to `output` (static where the C library allows, else dynamic). Throws with the
 * compiler's message.
 */
export function compileNative(source: string, output: string): void {
  const cc = findHostTool('cc') ?? findHostTool('gcc');
  if (!cc) throw new Error(`no C compiler (cc) to build ${source}: install the Debian packages gcc and libc6-dev`);
  mkdirSync(dirname(output), { recursive: true });
  const tmp = `${output}.tmp.${process.pid}`;
  const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, source];
  // Static: no dynamic loader at each container start. Where libc.a is missing, dynamic.
  let r = spawnSync(cc, ['-static', ...flags], { encoding: 'utf8' });
  if (r.status !== 0) r = spawnSync(cc, flags, { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`${cc} failed to build ${source}: ${(r.stderr || r.error?.message || '').trim().slice(0, 2000)}`);
  }
  renameSync(tmp, output);
}

const built = new Map<NativeProgram, string>();

/** Path of an up-to-date binary of `name`, built first when needed (throws when it cannot be). */
export function nativeBinary(name: NativeProgram): string {
  let output = built.get(name);
  if (output) return output;
  const dir = nativeDir();
  const source = join(dir, `${name}.c`);
  output = join(dir, 'build', name);
  if (mtime(output) < mtime(source)) compileNative(source, output);
  built.set(name, output);
  return output;
}
