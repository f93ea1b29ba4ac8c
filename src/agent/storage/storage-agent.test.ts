import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { localBrickPort } from './storage-agent.ts';

test('localBrickPort reads the brick\'s port from glusterd\'s own store; offline (0) or unknown is undefined', () => {
  const workdir = mkdtempSync(join(os.tmpdir(), 'berth-brick-port-'));
  try {
    const brick = { node: 'node-2', address: '198.18.0.12', path: '/data/node-2/replicated/bricks/pvc-a/brick' };
    const dir = join(workdir, 'vols', 'pvc-a', 'bricks');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, '198.18.0.12:-data-node-2-replicated-bricks-pvc-a-brick');
    writeFileSync(file, 'hostname=198.18.0.12\nlisten-port=54048\nrdma.listen-port=0\n');
    assert.equal(localBrickPort(workdir, 'pvc-a', brick), 54048);
    writeFileSync(file, 'hostname=198.18.0.12\nlisten-port=0\nrdma.listen-port=0\n');
    assert.equal(localBrickPort(workdir, 'pvc-a', brick), undefined);
    assert.equal(localBrickPort(workdir, 'pvc-b', brick), undefined);
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
});
