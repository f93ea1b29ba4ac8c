/**
 * The docs stay true: every top-level folder of src/ and every folder of the agent has a README;
 * a file a README names in backticks (`resource-store.ts`, `kinds/index.ts`) exists; and the root
 * README's Layout names every top-level folder.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SRC);

const isDir = (p: string) => statSync(p).isDirectory();
const subdirs = (dir: string) => readdirSync(dir).filter((n) => isDir(join(dir, n)) && n !== 'fixtures');

function walk(dir: string): string[] {
  return [dir, ...subdirs(dir).flatMap((n) => walk(join(dir, n)))];
}

/** The folders that must have a README. */
function documentedFolders(): string[] {
  const top = subdirs(SRC).map((n) => join(SRC, n));
  return [...new Set([...top, ...walk(join(SRC, 'agent'))])];
}

/** Every file below `dir`, by base name. */
function filesBelow(dir: string): Set<string> {
  const out = new Set<string>();
  for (const d of walk(dir)) for (const n of readdirSync(d)) if (!isDir(join(d, n))) out.add(n);
  return out;
}

/**
 * Code-file names a README mentions in backticks, e.g. `store-watch.ts` or `native/shim/shim.c`. A bare
 * name must be in the README's folder or below; a file elsewhere is named with its path
 * (`client/informer.ts`), so a README never points at a file that moved or went.
 */
function mentionedFiles(readme: string): string[] {
  return [...readme.matchAll(/`([\w./-]+\.(?:ts|c|sh))`/g)].map((m) => m[1]);
}

/** Does the file a README in `dir` names exist? Paths are tried from the folder, each folder above it, and the repo. */
function mentionExists(dir: string, name: string, below: Set<string>): boolean {
  if (!name.includes('/')) return below.has(name);
  for (let base = dir; base.startsWith(SRC); base = dirname(base)) if (existsSync(join(base, name))) return true;
  return existsSync(join(ROOT, name)) || below.has(basename(name));
}

test('every top-level folder and every agent folder has a README', () => {
  const missing = documentedFolders().filter((d) => {
    const p = join(d, 'README.md');
    return !existsSync(p) || readFileSync(p, 'utf8').trim().length < 40;
  });
  assert.deepEqual(missing.map((d) => relative(ROOT, d)), []);
});

test('files named in the READMEs exist', () => {
  const stale: string[] = [];
  for (const dir of walk(SRC)) {
    const p = join(dir, 'README.md');
    if (!existsSync(p)) continue;
    const below = filesBelow(dir);
    for (const name of mentionedFiles(readFileSync(p, 'utf8'))) {
      if (!mentionExists(dir, name, below)) stale.push(`${relative(ROOT, p)}: ${name}`);
    }
  }
  assert.deepEqual(stale, []);
});

test("the root README's Layout names every top-level folder of src/", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const layout = /## Layout[^#]*?```([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(layout, 'README.md has a Layout section with a code block');
  const named = new Set([...layout.matchAll(/^\s+([\w-]+)\/\s/gm)].map((m) => m[1]));
  assert.deepEqual(subdirs(SRC).filter((f) => !named.has(f)), []);
});

test('the checks catch a missing file and a missing folder', () => {
  assert.deepEqual(mentionedFiles('see `store-watch.ts` and `kinds/index.ts`, not `nope`'), ['store-watch.ts', 'kinds/index.ts']);
  assert.equal(mentionExists(join(SRC, 'registry'), 'no-such-file.ts', filesBelow(join(SRC, 'registry'))), false);
  assert.equal(mentionExists(join(SRC, 'registry'), 'kinds/index.ts', filesBelow(join(SRC, 'registry'))), true);
});
