import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { REPLICATED_PROVISIONER } from '../../apis/volumes/replicated.ts';
import { ANN_BRICKS, ANN_VOLUME_STATE, type Brick } from '../../apis/volumes/replicated-volume.ts';
import { createLogger } from '../../util/log.ts';
import type { GlusterCli } from './gluster-cli.ts';
import { setAsideIncompleteVolumes } from './glusterd.ts';
import { IMPORT_GRACE_MS, importMissingVolumes, membersToAsk, overdueVolumes, RESTART_EVERY_MS, wantedVolumes, type ImportState } from './volume-import.ts';

const brick = (n: number, v: string): Brick => ({ node: `n${n}`, address: `10.0.0.${n}`, path: `/b/n${n}/${v}/brick` });
const pv = (v: string, state: string | undefined, nodes = [1, 2, 3]): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume',
  metadata: { name: v, annotations: { [ANN_BRICKS]: JSON.stringify(nodes.map((n) => brick(n, v))), ...(state ? { [ANN_VOLUME_STATE]: state } : {}) } },
  spec: { persistentVolumeReclaimPolicy: 'Delete', csi: { driver: REPLICATED_PROVISIONER, volumeHandle: v } }, status: { phase: 'Bound' },
});
const peers = (...connected: number[]) => [1, 2, 3, 4, 5].map((n) => ({ address: `10.0.0.${n}`, connected: connected.includes(n) }));
const log = createLogger({ level: 'error' });

test('only Ready replicated volumes are wanted (not made yet, deleted, or another kind: never)', () => {
  const local = { ...pv('c', 'Ready'), spec: { hostPath: { path: '/x' } } };
  assert.deepEqual([...wantedVolumes([pv('a', 'Ready'), pv('b', 'Deleted'), pv('d', undefined), local]).keys()], ['a']);
  assert.deepEqual(wantedVolumes([pv('a', 'Ready', [2, 4, 5])]).get('a'), ['10.0.0.2', '10.0.0.4', '10.0.0.5']);
});

test('a missing volume is overdue only after the grace; known again, it is forgotten and a later loss waits again', () => {
  const since = new Map<string, number>();
  const wanted = wantedVolumes([pv('a', 'Ready'), pv('b', 'Ready')]);
  assert.deepEqual(overdueVolumes(wanted, ['b'], since, 1000), []);
  assert.deepEqual(overdueVolumes(wanted, ['b'], since, 1000 + IMPORT_GRACE_MS - 1), []);
  assert.deepEqual(overdueVolumes(wanted, ['b'], since, 1000 + IMPORT_GRACE_MS), ['a']);
  assert.deepEqual(overdueVolumes(wanted, ['a', 'b'], since, 50_000), []);
  assert.equal(since.size, 0);
  assert.deepEqual(overdueVolumes(wanted, ['b'], since, 60_000), []);
  // No longer wanted (its PV deleted): forgotten too.
  assert.deepEqual(overdueVolumes(new Map(), [], since, 100_000), []);
  assert.equal(since.size, 0);
});

test('members are asked brick nodes first, connected ones only', () => {
  const wanted = wantedVolumes([pv('a', 'Ready', [1, 2, 3])]);
  assert.deepEqual(membersToAsk(['a'], wanted, peers(1, 3, 4, 5)), ['10.0.0.1', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
  assert.deepEqual(membersToAsk(['a'], wanted, peers()), []);
});

/** A glusterd that knows `known`; its peers know `theirs`; a restart imports what a connected peer holds. */
function fakePool(known: string[], theirs: Record<string, string[]>, connected = [1, 2, 3]) {
  const restarts: string[] = [];
  const asked: string[] = [];
  const cli = {
    list: async (remote?: string) => {
      if (!remote) return [...known];
      asked.push(remote);
      if (!theirs[remote]) throw new Error(`gluster --remote-host=${remote} volume list: Connection failed`);
      return theirs[remote];
    },
    peers: async () => peers(...connected),
  } as unknown as GlusterCli;
  const daemon = {
    async restart(why: string) {
      restarts.push(why);
      for (const [addr, vols] of Object.entries(theirs)) if (connected.includes(Number(addr.split('.')[3]))) for (const v of vols) if (!known.includes(v)) known.push(v);
    },
  };
  return { cli, daemon, restarts, asked, known };
}

test('a Ready volume missing past the grace: the first member holding it is found, glusterd restarted once, the volume back', async () => {
  const state: ImportState = { missingSince: new Map() };
  const pvs = [pv('a', 'Ready'), pv('b', 'Ready')];
  // n1 does not answer, n2 lacks it too, n3 has it.
  const pool = fakePool(['b'], { '10.0.0.2': ['b'], '10.0.0.3': ['a', 'b'] });
  assert.deepEqual(await importMissingVolumes(pool.cli, pool.daemon, log, pvs, state, 0), { missing: [] });
  assert.deepEqual(pool.asked, [], 'within the grace no member is asked');
  const r = await importMissingVolumes(pool.cli, pool.daemon, log, pvs, state, IMPORT_GRACE_MS);
  assert.deepEqual(r.restartedFor, { volumes: ['a'], holder: '10.0.0.3' });
  assert.deepEqual(pool.asked, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.equal(pool.restarts.length, 1);
  assert.deepEqual(await importMissingVolumes(pool.cli, pool.daemon, log, pvs, state, IMPORT_GRACE_MS + 3000), { missing: [] });
  assert.deepEqual(state.awaited, [], 'told back once');
  assert.equal(pool.restarts.length, 1);
});

test('a volume no connected member holds causes no restart; restarts for one that stays missing are spaced', async () => {
  const state: ImportState = { missingSince: new Map() };
  const nobody = fakePool([], { '10.0.0.1': [], '10.0.0.2': [], '10.0.0.3': [] });
  await importMissingVolumes(nobody.cli, nobody.daemon, log, [pv('a', 'Ready')], state, 0);
  const r = await importMissingVolumes(nobody.cli, nobody.daemon, log, [pv('a', 'Ready')], state, IMPORT_GRACE_MS);
  assert.equal(nobody.restarts.length, 0);
  assert.match(r.waiting!, /no connected member holds them \(asked 10\.0\.0\.1, 10\.0\.0\.2, 10\.0\.0\.3\)/);
  // Held by n4, which is not connected to this glusterd: a restart would not bring it.
  const away = fakePool([], { '10.0.0.4': ['a'] }, [4]);
  away.cli.peers = async () => peers(1, 2);
  const s2: ImportState = { missingSince: new Map() };
  await importMissingVolumes(away.cli, away.daemon, log, [pv('a', 'Ready')], s2, 0);
  assert.equal((await importMissingVolumes(away.cli, away.daemon, log, [pv('a', 'Ready')], s2, IMPORT_GRACE_MS)).waiting, 'no connected member answered');
  // Held, but the restart does not bring it (say the import fails again): the next restart waits RESTART_EVERY_MS.
  const stuck = fakePool([], { '10.0.0.1': ['a'] });
  stuck.daemon.restart = async (why: string) => void stuck.restarts.push(why);
  const s3: ImportState = { missingSince: new Map() };
  await importMissingVolumes(stuck.cli, stuck.daemon, log, [pv('a', 'Ready')], s3, 0);
  await importMissingVolumes(stuck.cli, stuck.daemon, log, [pv('a', 'Ready')], s3, IMPORT_GRACE_MS);
  assert.equal((await importMissingVolumes(stuck.cli, stuck.daemon, log, [pv('a', 'Ready')], s3, IMPORT_GRACE_MS + RESTART_EVERY_MS - 1)).waiting, 'restarted recently');
  assert.equal(stuck.restarts.length, 1);
  await importMissingVolumes(stuck.cli, stuck.daemon, log, [pv('a', 'Ready')], s3, IMPORT_GRACE_MS + RESTART_EVERY_MS);
  assert.equal(stuck.restarts.length, 2);
});

test('a volume directory of the store without its info file is set aside (glusterd would not start); complete ones stay', async () => {
  const workdir = mkdtempSync(join(tmpdir(), 'berth-glusterd-store-'));
  try {
    mkdirSync(join(workdir, 'vols', 'whole', 'bricks'), { recursive: true });
    writeFileSync(join(workdir, 'vols', 'whole', 'info'), 'type=2\n');
    mkdirSync(join(workdir, 'vols', 'torn', 'bricks'), { recursive: true });
    writeFileSync(join(workdir, 'vols', 'torn', 'node_state.info'), 'rebalance_status=0\n');
    assert.deepEqual(await setAsideIncompleteVolumes(workdir), ['torn']);
    assert.deepEqual(readdirSync(join(workdir, 'vols')), ['whole']);
    assert.match(readdirSync(join(workdir, 'vols-incomplete'))[0], /^torn\.\d+$/);
    assert.deepEqual(await setAsideIncompleteVolumes(workdir), []);
    assert.ok(existsSync(join(workdir, 'vols', 'whole', 'info')));
    assert.deepEqual(await setAsideIncompleteVolumes(join(workdir, 'none')), [], 'no store yet');
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
});
