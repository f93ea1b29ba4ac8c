/**
 * The replicated-volumes suite's node-loss cases (replicated-volumes.test.ts runs them on its lab):
 * a brick node killed and back (its stale brick healed), a brick node that stays down (its replica
 * rebuilt on the spare storage node).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { engineReport, podOn, poolWhole, sha } from '../support/gluster-lab.ts';
import { REBUILD_DELAY_S, type Brick, type ReplicatedSuite } from './replicated-volumes.fixture.ts';

/** A brick node killed: writes go on with 2 of 3; back within the rebuild delay, healed. */
export function brickNodeKilledCase(c: ReplicatedSuite): void {
  const { k, waitFor, node, pvMessage, events, podPhase } = c;

  test('a brick node killed: writes go on (2 of 3), the PV is degraded; back, its stale brick is healed (VolumeHealed)', async () => {
    const victim = c.bricks[1].node;
    const writerNode = c.lab.state().nodes.map((n) => n.name).find((n) => n !== victim)!;
    await k(['apply', '-f', '-'], podOn('ticker', writerNode, [
      'import os, time',
      'i = 0',
      'while True:',
      '  fd = os.open("/data/ticks", os.O_CREAT | os.O_WRONLY | os.O_APPEND)',
      '  os.write(fd, b"%d\\n" % i); os.fsync(fd); os.close(fd)',
      '  print(i, flush=True); i += 1; time.sleep(0.1)',
    ].join('\n'), 'data', 'Always'));
    const ticks = async () => Number((await k(['logs', 'ticker', '--tail=1'])).trim() || -1);
    await waitFor('ticker writing', async () => (await ticks()) > 10);
    await c.lab.run(['kill', victim]);
    try {
      const [atKill, tKill] = [await ticks(), Date.now()];
      // Still writable with one brick gone: the ticks go on (each one fsynced on the two others) once the
      // client gives the dead brick up (ping-timeout 5 s). Timed from the kill, not against the PV's
      // degraded message: both wait on a 5 s timer, and which comes first was a coin toss under load.
      await waitFor('a write after the kill', async () => (await ticks()) > atKill, 60_000);
      const stall = (Date.now() - tKill) / 1000;
      await waitFor('PV degraded', async () => /^degraded: 2 of 3 replicas online; offline: /.test(await pvMessage()), 60_000);
      assert.match(await pvMessage(), new RegExp(`offline: ${victim}`));
      assert.ok((await events('VolumeDegraded')).some((e) => e.involvedObject.name === c.pvName));
      const degraded = await ticks();
      await waitFor('writes after the kill', async () => (await ticks()) > degraded + 20, 60_000);
      assert.equal(await podPhase('ticker'), 'Running');
      process.stdout.write(`# brick node killed: the writer's first write after the kill ${stall.toFixed(1)} s after it\n`);
      assert.ok(stall < 20, `writes resumed ${stall.toFixed(1)} s after the kill (the client's ping-timeout is 5 s)`);
    } catch (err) {
      // Back, so the cases after this one run on a whole c.lab, not on one node short.
      await c.lab.run(['restart', victim]).catch(() => {});
      await k(['delete', 'pod', 'ticker', '--wait=true']).catch(() => {});
      throw err;
    }
    await c.lab.run(['restart', victim]);
    await waitFor('VolumeHealed', async () => (await events('VolumeHealed')).some((e) => e.involvedObject.name === c.pvName), 180_000);
    assert.match(await pvMessage(), /^healthy: 3 of 3 replicas online/);
    assert.deepEqual((await events('ReplicaMoved')).map((e) => e.message), [], `back within the ${REBUILD_DELAY_S} s rebuild delay: healed, not rebuilt`);
    await k(['delete', 'pod', 'ticker', '--wait=true']);
    // The brick that missed writes holds what the others hold (healed from them, not trusted).
    await waitFor('bricks equal', async () => {
      const sums = c.bricks.map((b) => sha(path.join(b.path, 'ticks')));
      return sums.every((s) => s === sums[0]);
    }, 60_000);
  });
}

/** A brick node that stays down: its replica rebuilt on the spare. */
export function staysDownCase(c: ReplicatedSuite): void {
  const { json, waitFor, node, gluster, pvMessage, events } = c;

  test('a brick node that stays down: its replica is rebuilt on the spare storage node (ReplicaMoved), the data copied there', async () => {
    const victim = c.bricks[0];
    try {
      await staysDown(victim);
    } catch (err) {
      // The node comes back so the deletion case after this one still runs.
      const report = engineReport(c.lab, c.pvName);
      await c.lab.run(['restart', victim.node]).catch(() => {});
      throw new Error(`${(err as Error).message}\nglusterd on each node:\n${report}`);
    }
  });

  async function staysDown(victim: Brick): Promise<void> {
    const spare = c.lab.state().nodes.map((n) => n.name).find((n) => !c.bricks.some((b) => b.node === n))!;
    // A kill while the pool is not whole (every member seeing every other one in it) is another
    // scenario: with the killed member, one that a peer does not count for server quorum leaves the
    // swap's leader short of quorum (the agents repair a half-joined member, which this waits for).
    const t0 = Date.now();
    await waitFor('the pool whole as every member sees it', async () => poolWhole(c.lab), 180_000);
    const whole = Date.now();
    await c.lab.run(['kill', victim.node]);
    const at = () => `${((Date.now() - whole) / 1000).toFixed(1)} s`;
    // NotReady after the grace (8 s), moved REBUILD_DELAY_S later (the server's --replica-rebuild-delay), then a full heal.
    const moved = await waitFor('ReplicaMoved', async () => (await events('ReplicaMoved')).find((e) => e.involvedObject.name === c.pvName), 120_000);
    assert.match(moved.message, new RegExp(`moves from ${victim.node} to ${spare}`));
    const tMoved = at();
    const now: Brick[] = JSON.parse((await json(['get', 'pv', c.pvName])).metadata.annotations['storage.berth.dev/bricks']);
    assert.deepEqual(now.map((b) => b.node).sort(), [...c.bricks.slice(1).map((b) => b.node), spare].sort());
    const fresh = now.find((b) => b.node === spare)!;
    await waitFor('the new brick in the volume', async () => gluster(now[0].node, 'volume', 'info', c.pvName).includes(`${fresh.address}:${fresh.path}`));
    const tSwapped = at();
    await waitFor('data copied to the new brick', async () => existsSync(path.join(fresh.path, 'f199')) && existsSync(path.join(fresh.path, 'ticks'))
      && sha(path.join(fresh.path, 'ticks')) === sha(path.join(now.find((b) => b.node !== spare)!.path, 'ticks')), 120_000);
    const tCopied = at();
    await waitFor('healthy again', async () => /^healthy: 3 of 3/.test(await pvMessage()), 120_000);
    process.stdout.write(`# stays down: pool whole after ${((whole - t0) / 1000).toFixed(1)} s; after the kill ReplicaMoved ${tMoved}, brick swapped ${tSwapped}, data copied ${tCopied}, healthy ${at()}\n`);
    // Back, the old node holds no brick of the volume: its stale copy goes.
    await c.lab.run(['restart', victim.node]);
    await waitFor('stale brick removed', async () => !existsSync(path.dirname(victim.path)), 120_000);
  }
}
