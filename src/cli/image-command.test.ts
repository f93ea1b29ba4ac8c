import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildImage, sh } from '../agent/images/test-image.fixture.ts';

const exec = promisify(execFile);
const BERTH = resolve(import.meta.dirname, '../../bin/berth');

let tmp: string;
before(async () => { tmp = await mkdtemp(join(tmpdir(), 'berth-image-cli-')); });
after(async () => { await rm(tmp, { recursive: true, force: true }); });

const berth = async (...args: string[]) => {
  try {
    const r = await exec(BERTH, args, { env: { ...process.env, BERTH_FROM_SOURCE: '1' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

test('berth image import (OCI layout and docker-archive), ls and rm against one store', async () => {
  const layout = join(tmp, 'layout');
  await buildImage(layout, 'v1', { '/hello.txt': 'hi\n' }, { busybox: true, config: ['--config.cmd=/bin/sh'] });
  const archive = join(tmp, 'image.tar');
  await sh('skopeo', ['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${archive}:example.test/tools:2`]);
  const store = ['--agent-data-dir', join(tmp, 'agent')];

  const a = await berth('image', 'import', layout, '--repository', 'localhost/tools', ...store);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /imported localhost\/tools:v1/);
  const b = await berth('image', 'import', archive, ...store);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /imported example\.test\/tools:2/);

  const ls = await berth('image', 'ls', ...store);
  assert.equal(ls.code, 0, ls.stderr);
  const rows = ls.stdout.trim().split('\n');
  assert.match(rows[0]!, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
  assert.ok(rows.some((r) => /^localhost\/tools\s+v1\s+[0-9a-f]{13}\s+\d/.test(r)), ls.stdout);
  assert.ok(rows.some((r) => /^example\.test\/tools\s+2\s/.test(r)), ls.stdout);

  const rmOne = await berth('image', 'rm', 'localhost/tools:v1', ...store);
  assert.equal(rmOne.code, 0, rmOne.stderr);
  const after1 = await berth('image', 'ls', ...store);
  assert.doesNotMatch(after1.stdout, /localhost\/tools/);
  assert.match(after1.stdout, /example\.test\/tools/);

  const missing = await berth('image', 'rm', 'localhost/nothing:1', ...store);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error: image "localhost\/nothing:1" not found/);
  const bad = await berth('image', 'import', join(tmp, 'no-such-file.tar'), ...store);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: /);
});
