/**
 * The import order between the top-level folders of src/: each layer may import only from the
 * layers below it, never sideways or upwards. Tests, shared case suites and fixtures are exempt
 * (a test may start a whole server). A new top-level folder must be placed in LAYERS.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Bottom first. Folders on one line are peers: they may not import each other. */
const LAYERS: readonly (readonly string[])[] = [
  ['util'], //                                   logging
  ['apis', 'host', 'pki'], //                    API vocabulary; running host programs; certificates
  ['errors'], //                                 the error catalogue → metav1.Status
  ['auth'], //                                   who is asking (authentication) and may they (authorization)
  ['storage'], //                                Backend: SQLite, etcd, watch fan-out
  ['registry'], //                               generic store + per-kind strategies
  ['api', 'client'], //                          HTTP server; the Client (local and HTTP), informers, queues
  ['controllers', 'scheduler', 'dns', 'proxy'], // control loops and node services on the Client
  ['agent'], //                                  the node agent
  ['sim'], //                                    hollow nodes
  ['server'], //                                 composes a control plane (and berth up)
  ['lab'], //                                    berth lab: hosts as network namespaces, real server and agents
  ['cli', 'ui'], //                              sub-commands; the web UI's browser code (bundled by esbuild, imported by no server code)
];

const SRC = dirname(fileURLToPath(import.meta.url));
const EXEMPT = /\.(test|case|fixture)\.ts$/;
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Relative import specifiers of one source text. */
function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
}

/**
 * Imports that go against `layers`, as `from -> to` lines. `files` maps a path relative to src/
 * (with `/`) to its source text; exempt files are skipped.
 */
function layerViolations(files: ReadonlyMap<string, string>, layers: readonly (readonly string[])[]): string[] {
  const level = new Map<string, number>();
  layers.forEach((folders, i) => folders.forEach((f) => level.set(f, i)));
  const out: string[] = [];
  for (const [path, source] of files) {
    const from = path.split('/')[0];
    if (EXEMPT.test(path) || !path.includes('/')) continue;
    for (const spec of importsOf(source)) {
      const target = normalize(join(dirname(path), spec)).split(sep).join('/');
      const to = target.split('/')[0];
      if (to === from || !target.includes('/')) continue;
      const a = level.get(from);
      const b = level.get(to);
      if (a === undefined || b === undefined || b >= a) out.push(`${path} -> ${target}`);
    }
  }
  return out;
}

function sourceTree(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) files.set(relative(SRC, p).split(sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(SRC);
  return files;
}

test('every top-level folder of src/ has a place in the layers', () => {
  const placed = new Set(LAYERS.flat());
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.deepEqual(folders.filter((f) => !placed.has(f)), []);
  assert.deepEqual([...placed].filter((f) => !folders.includes(f)), [], 'LAYERS names folders that do not exist');
});

test('no import goes sideways or up the layers', () => {
  assert.deepEqual(layerViolations(sourceTree(), LAYERS), []);
});

test('the check catches an upward, a sideways and an unplaced import, and exempts tests', () => {
  const files = new Map([
    ['apis/quantity.ts', "import { x } from '../registry/validation/resources.ts';"], // up
    ['client/informer.ts', "import type { H } from '../api/server.ts';"], //             sideways
    ['agent/agent.ts', "import { y } from '../nowhere/thing.ts';"], //                    unplaced
    ['registry/prepare.ts', "import { now } from '../apis/time.ts';\nimport('../util/log.ts');"], // down: fine
    ['registry/prepare.test.ts', "import { start } from '../server/berth-server.ts';"], //    test: exempt
    ['proxy/netns-lab.fixture.ts', "import { a } from '../agent/agent.ts';"], //             fixture: exempt
  ]);
  assert.deepEqual(layerViolations(files, LAYERS), [
    'apis/quantity.ts -> registry/validation/resources.ts',
    'client/informer.ts -> api/server.ts',
    'agent/agent.ts -> nowhere/thing.ts',
  ]);
});
