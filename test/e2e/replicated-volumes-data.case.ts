/**
 * The replicated-volumes suite's cases about claims and their data (replicated-volumes.test.ts runs
 * them on its lab): a claim binds to three bricks on three nodes, data follows its pod to another
 * node, a claim waits for three storage nodes, a brick disk fills up, a claim's deletion removes
 * the volume (also from a member that missed it).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { claim, glusterdPid, podOn } from '../support/gluster-lab.ts';
import { sleep, type Brick, type ReplicatedSuite } from './replicated-volumes.fixture.ts';

/** A claim binds and its data follows its pod; with too few storage nodes it waits. */
export function placementCases(c: ReplicatedSuite): void {
  const { k, json, waitFor, node, gluster, events, podPhase } = c;

  test('a claim of class replicated binds to a PV with three bricks on three distinct nodes; the gluster volume is started with quorum', async () => {
    await k(['apply', '-f', '-'], claim('data'));
    const pvc = await waitFor('data Bound', async () => { const pvc = await json(['get', 'pvc', 'data']); return pvc.status?.phase === 'Bound' && pvc; });
    c.pvName = pvc.spec.volumeName;
    const pv = await json(['get', 'pv', c.pvName]);
    assert.equal(pv.spec.csi.driver, 'berth.dev/replicated');
    c.bricks = JSON.parse(pv.metadata.annotations['storage.berth.dev/bricks']);
    assert.equal(new Set(c.bricks.map((b) => b.node)).size, 3);
    for (const b of c.bricks) assert.equal(b.address, node(b.node).address);
    await waitFor('volume Ready', async () => (await json(['get', 'pv', c.pvName])).metadata.annotations['storage.berth.dev/volume-state'] === 'Ready');
    const info = gluster(c.bricks[0].node, 'volume', 'info', c.pvName);
    assert.match(info, /Status: Started/);
    assert.match(info, /Number of Bricks: 1 x 3 = 3/);
    for (const opt of [/cluster\.quorum-type: auto/, /cluster\.server-quorum-type: server/, /network\.ping-timeout: 5/, /client\.tcp-user-timeout: 5/]) assert.match(info, opt);
  });

  test('a pod writes and fsyncs files; run pinned on another node, the data is there', async () => {
    const first = c.bricks[0].node;
    const other = c.lab.state().nodes.map((n) => n.name).find((n) => !c.bricks.some((b) => b.node === n))!;
    await k(['apply', '-f', '-'], podOn('writer', first, [
      'import os',
      'for i in range(200):',
      '  fd = os.open("/data/f%03d" % i, os.O_CREAT | os.O_WRONLY | os.O_TRUNC)',
      '  os.write(fd, (("%d " % i) * 500).encode()); os.fsync(fd); os.close(fd)',
      'print("wrote", len(os.listdir("/data")))',
    ].join('\n')));
    await waitFor('writer Succeeded', async () => (await podPhase('writer')) === 'Succeeded');
    assert.match(await k(['logs', 'writer']), /wrote 200/);
    await k(['delete', 'pod', 'writer', '--wait=true']);
    await k(['apply', '-f', '-'], podOn('reader', other, [
      'import os',
      'bad = [n for n in range(200) if open("/data/f%03d" % n).read() != ("%d " % n) * 500]',
      'print("files", len(os.listdir("/data")), "bad", len(bad))',
    ].join('\n')));
    await waitFor('reader Succeeded', async () => (await podPhase('reader')) === 'Succeeded');
    assert.match(await k(['logs', 'reader']), /files 200 bad 0/);
    await k(['delete', 'pod', 'reader', '--wait=true']);
  });

  test('with two storage nodes a new claim stays Pending with the reason; a third one back: it binds', async () => {
    const spare = c.lab.state().nodes.map((n) => n.name).filter((n) => n !== 'node-1' && n !== 'node-2');
    for (const n of spare) await k(['label', 'node', n, 'storage.berth.dev/node-']);
    await k(['apply', '-f', '-'], claim('waiting'));
    const why = await waitFor('ProvisioningFailed', async () => (await json(['get', 'events', '--field-selector', 'involvedObject.name=waiting,reason=ProvisioningFailed'])).items[0]);
    assert.match(why.message, /waiting for 3 storage nodes to place 3 replicas on distinct nodes: 2 available \(node-1, node-2\)/);
    await sleep(2000);
    assert.equal((await json(['get', 'pvc', 'waiting'])).status.phase, 'Pending');
    assert.match(await k(['describe', 'pvc', 'waiting']), /ProvisioningFailed.*waiting for 3 storage nodes/);
    for (const n of spare) await k(['label', 'node', n, 'storage.berth.dev/node=true']);
    await waitFor('waiting Bound', async () => (await json(['get', 'pvc', 'waiting'])).status?.phase === 'Bound');
    await k(['delete', 'pvc', 'waiting', '--wait=true']);
  });
}

/** A brick filesystem full: ENOSPC in the pod, the PV says which bricks; freed, healthy again. */
export function diskFullCase(c: ReplicatedSuite): void {
  const { k, json, waitFor, node, events, podPhase } = c;

  test('a brick disk full: writes fail cleanly in the pod, the PV names the full bricks (VolumeDegraded); space freed, healthy again', async () => {
    // The claim waits while only two nodes offer storage, so the bricks' directories on the three that
    // will hold them can first become small filesystems (32 MiB tmpfs) — the lab's disk is the machine's.
    const [third, fourth] = ['node-3', 'node-4'];
    for (const n of [third, fourth]) await k(['label', 'node', n, 'storage.berth.dev/node-']);
    await k(['apply', '-f', '-'], claim('small'));
    const vol = `pvc-${(await json(['get', 'pvc', 'small'])).metadata.uid}`;
    for (const n of ['node-1', 'node-2', third]) {
      const dir = path.join(node(n).dataDir, 'replicated', 'bricks', vol);
      mkdirSync(dir, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'berth-e2e-brick', dir]);
      c.smallMounts.push(dir);
    }
    await k(['label', 'node', third, 'storage.berth.dev/node=true']);
    await waitFor('small Bound', async () => (await json(['get', 'pvc', 'small'])).status?.phase === 'Bound');
    await k(['label', 'node', fourth, 'storage.berth.dev/node=true']);
    const placed: Brick[] = JSON.parse((await json(['get', 'pv', vol])).metadata.annotations['storage.berth.dev/bricks']);
    assert.deepEqual(placed.map((b) => b.node).sort(), ['node-1', 'node-2', third]);
    await waitFor('small volume Ready', async () => (await json(['get', 'pv', vol])).metadata.annotations['storage.berth.dev/volume-state'] === 'Ready');
    await k(['apply', '-f', '-'], podOn('filler', fourth, [
      'import errno, os',
      'fd = os.open("/data/big", os.O_CREAT | os.O_WRONLY)',
      'n = 0',
      'try:',
      '  while n < 256:',
      '    os.write(fd, b"x" * 1048576); os.fsync(fd); n += 1',
      '  print("no error after", n, "MiB")',
      'except OSError as e:',
      '  print("write failed after", n, "MiB:", errno.errorcode.get(e.errno, e.errno), e.strerror)',
    ].join('\n'), 'small'));
    await waitFor('filler done', async () => ['Succeeded', 'Failed'].includes(await podPhase('filler')));
    const said = await k(['logs', 'filler']);
    assert.match(said, /write failed after \d+ MiB: ENOSPC/, 'a full volume fails the write with ENOSPC, the pod goes on');
    assert.equal(await podPhase('filler'), 'Succeeded');
    const full = await waitFor('the PV names the full bricks', async () => {
      const m = (await json(['get', 'pv', vol])).status?.message ?? '';
      return /brick disk full on /.test(m) && m;
    }, 60_000);
    assert.match(full, /^degraded: /);
    const degraded = await waitFor('VolumeDegraded for the full disk', async () => (await events('VolumeDegraded')).find((e) => e.involvedObject.name === vol && /brick disk full/.test(e.message)), 60_000);
    process.stdout.write(`# disk full: ${said.trim()}; PV: ${full}; event: ${degraded.message}\n`);
    await k(['delete', 'pod', 'filler', '--wait=true']);
    await k(['apply', '-f', '-'], podOn('freer', fourth, 'import os; os.remove("/data/big"); print("freed")', 'small'));
    await waitFor('freer Succeeded', async () => (await podPhase('freer')) === 'Succeeded');
    await waitFor('small healthy again', async () => /^healthy: 3 of 3/.test((await json(['get', 'pv', vol])).status?.message ?? ''), 120_000);
    await k(['delete', 'pod', 'freer', '--wait=true']);
    // Deleted: once the engine volume is gone (its bricks stopped), the small filesystems go and the
    // agents remove the brick directories as for any volume.
    await k(['delete', 'pvc', 'small', '--wait=false']);
    await waitFor('small engine volume deleted', async () => {
      const r = await c.lab.kubectl(['get', 'pv', vol, '-o', 'json']);
      return !r.stdout.includes(vol) || JSON.parse(r.stdout).metadata.annotations?.['storage.berth.dev/volume-state'] === 'Deleted';
    });
    c.unmountSmall();
    await waitFor('small PV gone', async () => !(await c.lab.kubectl(['get', 'pv', vol])).stdout.includes(vol));
  });
}

/** A claim's deletion removes the engine volume and bricks, then the PV; also from a member that missed it. */
export function deletionCases(c: ReplicatedSuite): void {
  const { k, json, waitFor, node, gluster } = c;

  test('deleting the claim removes the gluster volume, its bricks and then the PV', async () => {
    // The bricks the PV names now (a case before may have moved one), not what the suite last saw.
    const bricks: Brick[] = JSON.parse((await json(['get', 'pv', c.pvName])).metadata.annotations['storage.berth.dev/bricks']);
    await k(['delete', 'pvc', 'data', '--wait=true']);
    await waitFor('PV gone', async () => !(await c.lab.kubectl(['get', 'pv', c.pvName])).stdout.includes(c.pvName));
    assert.ok(!gluster('node-1', 'volume', 'list').includes(c.pvName), 'the gluster volume is gone');
    for (const b of bricks) assert.ok(!existsSync(path.dirname(b.path)), `${b.node}: ${path.dirname(b.path)} removed`);
  });

  test('a member that missed a claim\'s deletion (its store still holding the volume) comes back: the volume is deleted pool-wide', async () => {
    await k(['apply', '-f', '-'], claim('late'));
    const vol = (await waitFor('late Bound', async () => { const pvc = await json(['get', 'pvc', 'late']); return pvc.status?.phase === 'Bound' && pvc; })).spec.volumeName;
    await waitFor('late volume Ready', async () => (await json(['get', 'pv', vol])).metadata.annotations['storage.berth.dev/volume-state'] === 'Ready');
    const placed: Brick[] = JSON.parse((await json(['get', 'pv', vol])).metadata.annotations['storage.berth.dev/bricks']);
    const member = c.lab.state().nodes.map((n) => n.name).find((n) => !placed.some((b) => b.node === n))!;
    await waitFor(`${member} knows the volume`, async () => gluster(member, 'volume', 'list').split('\n').includes(vol), 60_000);
    // What a member that missed the delete (rejoining, or down through it) keeps: the definition in its store.
    const store = path.join(node(member).dataDir, 'replicated', 'glusterd', 'state', 'vols', vol);
    const kept = path.join(c.lab.dataDir, `missed-${vol}`);
    cpSync(store, kept, { recursive: true });
    await k(['delete', 'pvc', 'late', '--wait=true']);
    await waitFor('late PV gone', async () => !(await c.lab.kubectl(['get', 'pv', vol])).stdout.includes(vol));
    for (const n of c.lab.state().nodes) assert.ok(!gluster(n.name, 'volume', 'list').includes(vol), `${n.name}: the volume deleted`);
    // Stopped so its agent cannot start it again before the store has the volume back, then killed.
    const pid = glusterdPid(c.lab, member);
    process.kill(pid, 'SIGSTOP');
    cpSync(kept, store, { recursive: true });
    process.kill(pid, 'SIGKILL');
    const t0 = Date.now();
    await waitFor(`${member}'s glusterd back with the volume`, async () => gluster(member, 'volume', 'list').split('\n').includes(vol), 60_000);
    const back = ((Date.now() - t0) / 1000).toFixed(1);
    // Its handshake gives the volume to the others (glusterd imports what a peer has and it lacks);
    // the agents delete it again, or its own drops it.
    await waitFor('no member lists the volume', async () => c.lab.state().nodes.every((n) => !gluster(n.name, 'volume', 'list').includes(vol)), 180_000);
    const how = c.lab.state().nodes.flatMap((n) => c.lab.logTail(n.name, 400).split('\n').filter((l) => l.includes(vol) && /deleted again|dropped from this glusterd|so every member imports them/.test(l)).map((l) => `${n.name}: ${l.replace(/^.*"msg":"([^"]*)".*$/, '$1')}`));
    process.stdout.write(`# missed delete: ${member}'s glusterd back with the volume after ${back} s; gone from every member ${((Date.now() - t0) / 1000).toFixed(1)} s after the restart (${how.join('; ') || 'no agent step logged'})\n`);
    assert.ok(how.length, 'an agent deleted or dropped it');
  });
}
