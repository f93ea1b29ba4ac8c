/**
 * Integration tests against Debian's docker-registry on loopback. Need root (mknod for overlay
 * whiteouts, trusted.* xattrs, mount) and docker-registry, skopeo, umoci, busybox-static.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageService, type PullProgress } from './image-service.ts';
import { mountRootfs, unmountRootfs, isMountPoint } from './rootfs.ts';
import { pushRawImage, sh, tarOf, type RawLayer } from './test-image.fixture.ts';
import { startAppRegistry, startAuthProxy, type TestRegistry } from './test-registry.fixture.ts';
import { digestHex, sha256Digest } from './digest.ts';

const tools = ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/umoci', '/bin/busybox'];

describe('image service against a loopback registry', () => {
  let tmp = '';
  let layout = '';
  let reg: TestRegistry;
  let svcN = 0;
  const newService = (opts = {}) => ImageService.open(join(tmp, `data-${svcN++}`), { youngContentMs: 0, ...opts });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests need root (mknod, trusted xattrs, overlay mounts)');
    for (const t of tools) assert.ok(existsSync(t), `${t} missing: apt-get install -y docker-registry skopeo umoci busybox-static`);
    tmp = await mkdtemp(join(tmpdir(), 'berth-images-'));
    ({ layout, reg } = await startAppRegistry(tmp));
  });

  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('pull by tag: config, layers and whiteouts', async () => {
    const svc = await newService();
    const info = await svc.pull(`${reg.host}/test/app:v1`);
    assert.deepEqual(info.repoTags, [`${reg.host}/test/app:v1`]);
    assert.deepEqual(info.config.Entrypoint, ['/bin/sh']);
    assert.deepEqual(info.config.Cmd, ['-c', 'echo hi']);
    assert.ok(info.config.Env?.includes('FOO=bar'));
    assert.equal(info.config.WorkingDir, '/opt');
    assert.equal(info.config.User, '1000:1000');
    assert.equal(info.layerDirs.length, 2);
    const [l1, l2] = info.layerDirs as [string, string];
    assert.equal(readFileSync(join(l1, 'etc/hello.txt'), 'utf8'), 'hello\n');
    assert.equal(lstatSync(join(l1, 'bin/sh')).isSymbolicLink(), true);
    const wh = lstatSync(join(l2, 'etc/gone.txt'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout became a 0/0 char device');
    assert.ok(!existsSync(join(l2, 'etc/.wh.gone.txt')));
    assert.ok(!existsSync(join(l2, 'opt/data/.wh..wh..opq')));
    const opq = await sh('python3', ['-c', 'import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())', join(l2, 'opt/data'), 'trusted.overlay.opaque']);
    assert.equal(opq, 'y');
    assert.deepEqual(svc.list().map((i) => i.digest), [info.digest]);
    assert.deepEqual(readdirSync(join(svc.store.root, 'tmp')), []);
  });

  test('pull by digest, index selection and IfNotPresent/Never policies', async () => {
    const svc = await newService();
    const byTag = await svc.pull(`${reg.host}/test/app:v1`);
    const svc2 = await newService();
    const byDigest = await svc2.pull(`${reg.host}/test/app@${byTag.digest}`);
    assert.equal(byDigest.id, byTag.id);
    assert.deepEqual(byDigest.repoTags, []);
    assert.deepEqual(byDigest.repoDigests, [`${reg.host}/test/app@${byTag.digest}`]);
    // a multi-platform index pointing at the same manifest for amd64 (and a bogus arm64 entry)
    const mf = readFileSync(join(svc.store.blobPath(byTag.manifestDigest)));
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: byTag.manifestDigest, size: mf.length, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: byTag.manifestDigest, size: mf.length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const put = await fetch(`http://${reg.host}/v2/test/app/manifests/multi`, {
      method: 'PUT',
      headers: { 'Content-Type': index.mediaType },
      body: JSON.stringify(index),
    });
    assert.equal(put.status, 201, await put.text());
    const multi = await svc2.ensure(`${reg.host}/test/app:multi`, 'IfNotPresent');
    assert.notEqual(multi.digest, multi.manifestDigest, 'index digest recorded as the image digest');
    assert.equal(multi.manifestDigest, byTag.manifestDigest);
    assert.equal((await svc2.ensure(`${reg.host}/test/app:multi`, 'Never')).digest, multi.digest);
    await assert.rejects(svc2.ensure(`${reg.host}/test/app:other`, 'Never'), /not present.*Never/);
  });

  test('unknown image: error carries the registry message', async () => {
    const svc = await newService();
    await assert.rejects(svc.pull(`${reg.host}/test/app:nope`), /MANIFEST_UNKNOWN|manifest unknown/);
    await assert.rejects(svc.pull(`${reg.host}/test/missing:v1`), /NAME_UNKNOWN|MANIFEST_UNKNOWN|unknown/);
  });

  test('overlay rootfs shows the merged files', async () => {
    const svc = await newService();
    const info = await svc.pull(`${reg.host}/test/app:v1`);
    const ctr = join(tmp, 'ctr1');
    const m = await mountRootfs(info.layerDirs, ctr);
    try {
      assert.ok(await isMountPoint(m.path));
      assert.equal(readFileSync(join(m.path, 'etc/hello.txt'), 'utf8'), 'hello\n');
      assert.equal(readFileSync(join(m.path, 'etc/new.txt'), 'utf8'), 'new\n');
      assert.ok(!existsSync(join(m.path, 'etc/gone.txt')), 'whited-out file hidden');
      assert.deepEqual(readdirSync(join(m.path, 'opt/data')), ['c.txt'], 'opaque dir hides lower entries');
      writeFileSync(join(m.path, 'etc/written'), 'x');
      assert.ok(existsSync(join(m.upper, 'etc/written')));
      assert.equal(await sh('chroot', [m.path, '/bin/busybox', 'cat', '/etc/hello.txt']), 'hello\n');
    } finally {
      await unmountRootfs(ctr, { remove: true });
    }
    assert.equal(await isMountPoint(m.path), false);
    assert.ok(!existsSync(m.upper));
  });

  test('concurrent pulls of one image share one download', async () => {
    const proxy = await startAuthProxy(reg.host, 'none');
    try {
      const svc = await newService();
      const ref = `${proxy.host}/test/app:v1`;
      const [a, b, c] = await Promise.all([svc.pull(ref), svc.pull(ref), svc.pull(ref)]);
      assert.equal(a, b);
      assert.equal(b, c);
      const blobGets = proxy.requests.filter((p) => p.includes('/blobs/'));
      assert.equal(blobGets.length, 3, `config + 2 layers fetched once: ${blobGets.join(' ')}`);
      assert.equal(new Set(blobGets).size, blobGets.length);
    } finally {
      await proxy.stop();
    }
  });

  test('a corrupt blob is rejected and nothing is stored', async () => {
    const svc = await newService();
    const ref = `${reg.host}/test/corrupt:corrupt`;
    const res = await fetch(`http://${reg.host}/v2/test/corrupt/manifests/corrupt`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const mf = (await res.json()) as { layers: { digest: string }[] };
    const layer = mf.layers[0]!.digest;
    const hex = digestHex(layer);
    const data = join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const good = readFileSync(data);
    const bad = Buffer.from(good);
    bad[bad.length - 20] ^= 0xff;
    writeFileSync(data, bad);
    try {
      await assert.rejects(svc.pull(ref), /digest mismatch/);
      assert.equal(existsSync(svc.store.blobPath(layer)), false);
      assert.deepEqual(readdirSync(join(svc.store.root, 'tmp')), []);
      assert.deepEqual(readdirSync(join(svc.store.root, 'layers')), []);
      assert.deepEqual(svc.list(), []);
      assert.equal(await svc.get(ref), undefined);
    } finally {
      writeFileSync(data, good);
    }
    const ok = await svc.pull(ref);
    assert.equal(ok.layerDirs.length, 1);
  });

  /** A gzip layer (tar from `files`) for {@link pushRawImage}. */
  const gzLayer = async (files: Record<string, string | Buffer>, tag: string): Promise<RawLayer> => {
    const tar = await tarOf(join(tmp, `raw-${tag}`), files);
    return { blob: gzipSync(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', diffID: sha256Digest(tar) };
  };
  /** The registry's stored file for a blob (to corrupt it in place). */
  const registryBlob = (digest: string) => join(reg.storage, 'docker/registry/v2/blobs/sha256', digestHex(digest).slice(0, 2), digestHex(digest), 'data');
  const assertNothingLeft = (svc: ImageService, layerDiffIDs: string[]) => {
    assert.deepEqual(readdirSync(join(svc.store.root, 'tmp')), [], 'tmp/ is empty');
    for (const d of layerDiffIDs) assert.equal(existsSync(svc.store.layerPath(d)), false, `no layer dir for ${d}`);
    assert.deepEqual(svc.list(), []);
  };

  test('gzip, zstd and uncompressed layers, streamed: files, progress events', async (t) => {
    const gz = await gzLayer({ 'gz/a.txt': 'gzip layer\n', 'gz/big.bin': Buffer.alloc(3 << 20, 7) }, 'gz');
    const plainTar = await tarOf(join(tmp, 'raw-plain'), { 'plain/b.txt': 'plain layer\n', 'gz/.wh.a.txt': '' });
    const layers: RawLayer[] = [gz, { blob: plainTar, mediaType: 'application/vnd.oci.image.layer.v1.tar', diffID: sha256Digest(plainTar) }];
    const haveZstd = existsSync('/usr/bin/zstd');
    if (haveZstd) {
      const zTar = await tarOf(join(tmp, 'raw-zstd'), { 'zstd/c.txt': 'zstd layer\n' });
      const zPath = join(tmp, 'raw-zstd.tar');
      writeFileSync(zPath, zTar);
      await sh('zstd', ['-q', '-f', zPath]);
      layers.push({ blob: readFileSync(`${zPath}.zst`), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', diffID: sha256Digest(zTar) });
    } else t.diagnostic('zstd not installed: zstd layer skipped');
    await pushRawImage(reg.host, 'test/raw', 'mixed', layers);
    const svc = await newService();
    const events: PullProgress[] = [];
    const info = await svc.pull(`${reg.host}/test/raw:mixed`, { onProgress: (p) => events.push(p) });
    assert.equal(info.layerDirs.length, layers.length);
    assert.equal(readFileSync(join(info.layerDirs[0]!, 'gz/a.txt'), 'utf8'), 'gzip layer\n');
    assert.equal(statSync(join(info.layerDirs[0]!, 'gz/big.bin')).size, 3 << 20);
    assert.equal(readFileSync(join(info.layerDirs[1]!, 'plain/b.txt'), 'utf8'), 'plain layer\n');
    assert.ok(lstatSync(join(info.layerDirs[1]!, 'gz/a.txt')).isCharacterDevice(), 'whiteout converted in a streamed layer');
    if (haveZstd) assert.equal(readFileSync(join(info.layerDirs[2]!, 'zstd/c.txt'), 'utf8'), 'zstd layer\n');
    for (const l of layers) {
      assert.ok(existsSync(svc.store.blobPath(sha256Digest(l.blob))), 'compressed blob kept');
      const last = events.filter((e) => e.phase === 'layer' && e.digest === sha256Digest(l.blob)).at(-1);
      assert.deepEqual(last && last.phase === 'layer' && [last.bytes, last.total], [l.blob.length, l.blob.length]);
      assert.ok(events.some((e) => e.phase === 'unpacked' && e.diffID === l.diffID));
    }
    assert.deepEqual(readdirSync(join(svc.store.root, 'tmp')), []);
    // Blob stored but layer dir gone (e.g. removed by hand): unpacked again from the blob, no download.
    await rm(info.layerDirs[0]!, { recursive: true });
    const again = await (await ImageService.open(join(svc.store.root, '..'))).pull(`${reg.host}/test/raw:mixed`);
    assert.equal(readFileSync(join(again.layerDirs[0]!, 'gz/a.txt'), 'utf8'), 'gzip layer\n');
  });

  test('a layer whose content does not match its diffID: fails, no layer, no image', async () => {
    const good = await gzLayer({ 'x/ok.txt': 'ok' }, 'lie');
    const lie = { ...good, diffID: sha256Digest('something else') };
    await pushRawImage(reg.host, 'test/lie', 'v1', [lie]);
    const svc = await newService();
    await assert.rejects(svc.pull(`${reg.host}/test/lie:v1`), (e: Error) => e.message.includes(`layer ${lie.diffID}`) && /digest mismatch/.test(e.message));
    assertNothingLeft(svc, [lie.diffID, good.diffID]);
    // The blob itself matched the manifest: it is kept, like any verified download.
    assert.ok(existsSync(svc.store.blobPath(sha256Digest(good.blob))));
  });

  test('one corrupt layer among several: the pull fails only after the others stopped, nothing half-stored', async () => {
    const layers = [
      await gzLayer({ 'm/one.bin': Buffer.alloc(2 << 20, 1) }, 'm1'),
      await gzLayer({ 'm/two.txt': 'two '.repeat(100_000) }, 'm2'),
      await gzLayer({ 'm/three.bin': Buffer.alloc(2 << 20, 3) }, 'm3'),
    ];
    await pushRawImage(reg.host, 'test/multi', 'v1', layers);
    const bad = registryBlob(sha256Digest(layers[1]!.blob));
    const good = readFileSync(bad);
    const broken = Buffer.from(good);
    broken[Math.floor(broken.length / 2)] ^= 0xff;
    writeFileSync(bad, broken);
    const svc = await newService();
    try {
      await assert.rejects(svc.pull(`${reg.host}/test/multi:v1`), /digest mismatch/);
      assert.deepEqual(readdirSync(join(svc.store.root, 'tmp')), [], 'no download or unpack still running in tmp/');
      assert.equal(existsSync(svc.store.blobPath(sha256Digest(layers[1]!.blob))), false);
      assert.equal(existsSync(svc.store.layerPath(layers[1]!.diffID)), false);
      assert.deepEqual(svc.list(), []);
    } finally {
      writeFileSync(bad, good);
    }
    const info = await svc.pull(`${reg.host}/test/multi:v1`);
    assert.equal(readFileSync(join(info.layerDirs[1]!, 'm/two.txt'), 'utf8').length, 400_000);
  });

  test('a download cut short mid-layer leaves nothing behind', async () => {
    const layer = await gzLayer({ 'cut/data.bin': randomBytes(4 << 20) }, 'cut');
    await pushRawImage(reg.host, 'test/cut', 'v1', [layer]);
    const layerDigest = sha256Digest(layer.blob);
    // Forwards everything, but closes the connection halfway through the layer blob.
    const server = http.createServer((req, res) => {
      const up = http.request(`http://${reg.host}${req.url}`, { method: req.method, headers: { ...req.headers, host: reg.host } }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (!req.url?.endsWith(`/blobs/${layerDigest}`)) return void ur.pipe(res);
        let left = Math.floor(layer.blob.length / 2);
        ur.on('data', (c: Buffer) => {
          if (left > 0) res.write(c.subarray(0, left));
          left -= c.length;
          if (left <= 0) res.socket?.destroy();
        });
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const svc = await newService();
      await assert.rejects(svc.pull(`${host}/test/cut:v1`), new RegExp(`blob ${layerDigest}`));
      assertNothingLeft(svc, [layer.diffID]);
      assert.equal(existsSync(svc.store.blobPath(layerDigest)), false);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('two stores on one data dir (two processes) pulling the same image at once both succeed', async () => {
    const dir = join(tmp, `data-${svcN++}`);
    const [a, b] = await Promise.all([ImageService.open(dir, { youngContentMs: 0 }), ImageService.open(dir, { youngContentMs: 0 })]);
    const ref = `${reg.host}/test/app:v1`;
    const [x, y] = await Promise.all([a.pull(ref), b.pull(ref)]);
    assert.deepEqual(x.layerDirs, y.layerDirs);
    assert.equal(readFileSync(join(x.layerDirs[0]!, 'etc/hello.txt'), 'utf8'), 'hello\n');
    assert.ok(lstatSync(join(x.layerDirs[1]!, 'etc/gone.txt')).isCharacterDevice());
    assert.equal(readdirSync(join(dir, 'images/layers')).length, 2);
    assert.deepEqual(readdirSync(join(dir, 'images/tmp')), []);
    assert.deepEqual(a.list().map((i) => i.digest), [x.digest]);
  });

  test('import an OCI layout (dir and tar) and a docker-archive', async () => {
    const svc = await newService();
    const fromDir = await svc.importArchive(layout, { repository: 'example.com/imported/app' });
    const v1 = fromDir.find((i) => i.repoTags.includes('example.com/imported/app:v1'));
    assert.ok(v1, JSON.stringify(fromDir.map((i) => i.repoTags)));
    assert.deepEqual(v1.config.Entrypoint, ['/bin/sh']);
    const ociTar = join(tmp, 'layout.tar');
    await sh('tar', ['-c', '-f', ociTar, '-C', layout, '.']);
    const fromTar = await (await newService()).importArchive(ociTar);
    assert.ok(fromTar.some((i) => i.repoTags.includes('localhost/layout:v1')), JSON.stringify(fromTar.map((i) => i.repoTags)));
    const archive = join(tmp, 'app.docker.tar');
    await sh('skopeo', ['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${archive}:example.com/arch/app:v2`]);
    const svc3 = await newService();
    const [d] = await svc3.importArchive(archive);
    assert.ok(d);
    assert.deepEqual(d.repoTags, ['example.com/arch/app:v2']);
    assert.equal(d.id, v1.id, 'same config digest as the original');
    assert.equal(readFileSync(join(d.layerDirs[0]!, 'etc/hello.txt'), 'utf8'), 'hello\n');
    assert.ok(lstatSync(join(d.layerDirs[1]!, 'etc/gone.txt')).isCharacterDevice());
    assert.equal((await svc3.ensure('example.com/arch/app:v2', 'Never')).id, d.id);
  });

  test('remove and gc delete unreferenced content', async () => {
    const svc = await newService();
    const app = await svc.pull(`${reg.host}/test/app:v1`);
    const cor = await svc.pull(`${reg.host}/test/corrupt:corrupt`);
    await svc.remove(`${reg.host}/test/corrupt:corrupt`);
    assert.deepEqual(svc.list().map((i) => i.digest), [app.digest]);
    assert.equal(existsSync(cor.layerDirs[0]!), false);
    await assert.rejects(svc.remove(`${reg.host}/test/corrupt:corrupt`), /not found/);
    const kept = await svc.gc(new Set([app.id]));
    assert.equal(kept.images, 0);
    assert.ok(existsSync(app.layerDirs[1]!));
    const r = await svc.gc(new Set());
    assert.equal(r.images, 1);
    assert.deepEqual(readdirSync(join(svc.store.root, 'layers')), []);
    assert.deepEqual(readdirSync(join(svc.store.root, 'blobs/sha256')), []);
  });
});
