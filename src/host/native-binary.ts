/**
 * The agent's two small C programs, each the C files of one folder of native/ compiled with the
 * machine's C compiler into native/build/: the container shim (native/shim → berth-shim) and the
 * spawn helper (native/spawner → berth-spawner). scripts/build.sh compiles them; this module
 * compiles one again when it is missing or older than a file of its folder (a source checkout run
 * through tsx), once per process, into a temporary name renamed into place — so concurrent agents
 * and test files never see half a file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findHostTool } from './host-tools.ts';

/** Program → its folder in native/. */
const PROGRAMS = { 'berth-shim': 'shim', 'berth-spawner': 'spawner' } as const;
export type NativeProgram = keyof typeof PROGRAMS;

/** The repository's native/ folder: from src/… (tsx) or dist/src/… (compiled) alike. */
function nativeDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'native', 'shim', 'shim.c'))) return join(dir, 'native');
    dir = dirname(dir);
  }
  throw new Error('native programs: native/shim/shim.c not found above ' + fileURLToPath(import.meta.url));
}

const mtime = (p: string) => { try { return statSync(p).mtimeMs; } catch { return -1; } };

/** The C files of a program's folder (its headers are found beside them). */
function sourcesOf(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.endsWith('.c')).sort().map((f) => join(folder, f));
}

/**
 * Compiles the C files of `folder` to `output` (static where the C library allows, else dynamic).
 * Throws with the compiler's message.
 */
export function compileNative(folder: string, output: string): void {
  const cc = findHostTool('cc') ?? findHostTool('gcc');
  if (!cc) throw new Error(`no C compiler (cc) to build ${folder}: install the Debian packages gcc and libc6-dev`);
  mkdirSync(dirname(output), { recursive: true });
  const tmp = `${output}.tmp.${process.pid}`;
  const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, ...sourcesOf(folder)];
  // Static: no dynamic loader at each container start. Where libc.a is missing, dynamic.
  let r = spawnSync(cc, ['-static', ...flags], { encoding: 'utf8' });
  if (r.status !== 0) r = spawnSync(cc, flags, { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`${cc} failed to build ${folder}: ${(r.stderr || r.error?.message || '').trim().slice(0, 2000)}`);
  }
  renameSync(tmp, output);
}

const built = new Map<NativeProgram, string>();

/** Path of an up-to-date binary of `name`, built first when needed (throws when it cannot be). */
export function nativeBinary(name: NativeProgram): string {
  let output = built.get(name);
  if (output) return output;
  const dir = nativeDir();
  const folder = join(dir, PROGRAMS[name]);
  output = join(dir, 'build', name);
  const newest = Math.max(...readdirSync(folder).map((f) => mtime(join(folder, f))));
  if (mtime(output) < newest) compileNative(folder, output);
  built.set(name, output);
  return output;
}
