/**
 * The driver catalog: unique handlers, the same list as the API's validation of runtime names,
 * each entry builds a driver of its own name — and nothing outside runtime/ reaches into a
 * driver's folder (a new driver needs its folder plus its line in drivers.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_HANDLERS } from '../../apis/runtime-annotation.ts';
import { createLogger } from '../../util/log.ts';
import { RUNTIMES, runtimeHandlers } from './drivers.ts';

const RUNTIME_DIR = dirname(fileURLToPath(import.meta.url));
const SRC = normalize(join(RUNTIME_DIR, '..', '..'));
/** Folders of runtime/ every driver may use; every other folder is one driver's. */
const SHARED = new Set(['shared', 'cgroups']);

test('handlers are unique, the default class\'s first, and the ones the API accepts in runtime annotations', () => {
  const handlers = runtimeHandlers();
  assert.equal(new Set(handlers).size, handlers.length);
  assert.equal(handlers[0], 'process');
  assert.deepEqual([...handlers].sort(), [...RUNTIME_HANDLERS].sort());
});

test('each entry builds a driver named after its handler, in its own state dir', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-drivers-'));
  try {
    for (const reg of RUNTIMES) {
      const d = reg.create({ stateDir: join(dataDir, reg.handler), images: { get: async () => undefined }, settings: {}, log: createLogger({ level: 'error' }) });
      assert.equal(d.name, reg.handler);
      assert.equal(typeof d.capabilities.images, 'boolean');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(name) && !/\.(test|case|fixture)\.ts$/.test(name) ? [p] : [];
  });
}

test('no code outside runtime/ imports from a driver\'s folder', () => {
  const drivers = readdirSync(RUNTIME_DIR).filter((d) => statSync(join(RUNTIME_DIR, d)).isDirectory() && !SHARED.has(d));
  assert.ok(drivers.includes('process') && drivers.includes('runc'));
  const offenders: string[] = [];
  for (const file of sources(SRC)) {
    if (file.startsWith(RUNTIME_DIR + '/')) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(RUNTIME_DIR, normalize(join(dirname(file), m[1] ?? m[2])));
      if (drivers.includes(target.split('/')[0]) && target.includes('/')) offenders.push(`${relative(SRC, file)} -> runtime/${target}`);
    }
  }
  assert.deepEqual(offenders, []);
});
