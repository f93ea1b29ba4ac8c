import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startImageGc, type ImageGcTarget } from './image-gc.ts';
import { createLogger } from '../../util/log.ts';

const log = createLogger({ level: 'error' });

function fakeImages(): ImageGcTarget & { kept?: Set<string> } {
  const known: Record<string, { id: string; digest: string; manifestDigest: string }> = {
    'reg/a:1': { id: 'sha256:ca', digest: 'sha256:ia', manifestDigest: 'sha256:ma' },
  };
  const t: ImageGcTarget & { kept?: Set<string> } = {
    get: async (ref) => known[ref],
    gc: async (keep) => { t.kept = keep; return { images: 2, blobs: 3, layers: 4 }; },
  };
  return t;
}

test('under the threshold nothing is collected', async () => {
  const images = fakeImages();
  const gc = startImageGc({ images, dir: '/', inUse: () => [], log, usage: async () => 84.9 });
  assert.equal(await gc.runOnce(), undefined);
  assert.equal(images.kept, undefined);
  gc.stop();
});

test('over the threshold every image no pod uses goes; used ones are kept by all their digests', async () => {
  const images = fakeImages();
  const gc = startImageGc({ images, dir: '/', inUse: () => ['reg/a:1', 'reg/a:1', 'host', 'reg/missing:2'], log, usage: async () => 91 });
  assert.deepEqual(await gc.runOnce(), { usedPct: 91, images: 2, blobs: 3, layers: 4 });
  assert.deepEqual([...images.kept!].sort(), ['sha256:ca', 'sha256:ia', 'sha256:ma']);
  gc.stop();
});

test('the real statfs of / gives a percentage', async () => {
  const images = fakeImages();
  const gc = startImageGc({ images, dir: '/', inUse: () => [], log, highPct: 101 });
  assert.equal(await gc.runOnce(), undefined);
  gc.stop();
});
