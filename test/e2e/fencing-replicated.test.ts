/**
 * End to end: fencing with a `replicated` volume (issue 16; GlusterFS by the storage nodes) on
 * `berth lab up --nodes 4 --storage`: the member of a killed node is fenced on the control plane
 * (the fence generation on its PVC and PV), the live brick nodes block the lost node and acknowledge
 * (nftables, agent/storage/brick-fence.ts), and only then is it moved — with its data; when the node
 * is back, the fence is lifted.
 *
 * Serial (machine lock: bridges, namespaces, cgroups, FUSE); needs root. Nothing leaves the machine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type TestLab } from '../../src/lab/lab.fixture.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fencing a member with a replicated volume', { concurrency: false }, () => {
  let lab: TestLab;
  const k = (args: string[], input?: string) => lab.kubectl(args, input);
  const waitFor = waiter({
    context: async () => {
      const objects = await k(['get', 'nodes,pods,pvc,pv', '-o', 'wide']).then((r) => r.stdout + r.stderr, (err) => String(err));
      const events = await k(['get', 'events', '--sort-by=.metadata.resourceVersion']).then((r) => r.stdout.split('\n').slice(-25).join('\n'), () => '');
      return `${objects}\n${events}\n--- server\n${lab.logTail('server', 20)}`;
    },
  });
  const json = async (args: string[]) => { const r = await k([...args, '-o', 'json']); return r.code === 0 ? parseJson<any>(r.stdout, args.join(' ')) : undefined; };
  const runningOn = async (name: string, not?: string) => {
    const p = await json(['get', 'pod', name]);
    return p && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.spec.nodeName !== not && (p.status.containerStatuses ?? []).every((c: any) => c.state?.running) ? p : undefined;
  };
  const reasons = async (kind: string, name: string) => {
    const list = await json(['get', 'events', '--field-selector', `involvedObject.kind=${kind},involvedObject.name=${name}`]);
    return ((list?.items ?? []) as any[]).sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)).map((e) => e.reason as string);
  };

  before(async () => {
    lab = await startLab({ nodes: 4, storage: true });
  });
  after(async () => { await lab?.down(); });

  test('kill the node of a member on a replicated volume: fenced (PVC/PV generation, brick nodes ack), moved with its data; the fence lifted when the node is back', async () => {
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'rdb' },
      spec: {
        serviceName: 'rdb', replicas: 1, selector: { matchLabels: { app: 'rdb' } },
        template: {
          metadata: { labels: { app: 'rdb' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'c', image: 'host', command: ['sh', '-c', 'while :; do echo "$NODE $(date +%s%N)" >> /data/beats; sync /data/beats 2>/dev/null; sleep 0.5; done'],
              env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: 'replicated', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
      },
    })), 'rdb');
    const p0 = await waitFor('rdb-0 Running on its replicated volume', () => runningOn('rdb-0'), 240_000, 1000);
    const victim = p0.spec.nodeName as string;
    await sleep(2000);
    const pvName = (await json(['get', 'pvc', 'data-rdb-0'])).spec.volumeName as string;
    const bricks = JSON.parse((await json(['get', 'pv', pvName])).metadata.annotations['storage.berth.dev/bricks']).map((b: any) => b.node) as string[];
    const t0 = Date.now();
    await lab.run(['kill', victim]);
    const moved = await waitFor('rdb-0 Running on another node', () => runningOn('rdb-0', victim), 120_000, 500);
    const took = (Date.now() - t0) / 1000;
    const pv = await json(['get', 'pv', pvName]);
    const fence = JSON.parse(pv.metadata.annotations['storage.berth.dev/fence']);
    const acks = bricks.filter((n) => n !== victim).map((n) => `${n}=${pv.metadata.annotations[`storage.berth.dev/fence-ack.${n}`]}`);
    process.stdout.write(`# kill ${victim} (bricks on ${bricks.join(', ')}): rdb-0 Running on ${moved.spec.nodeName} ${took.toFixed(1)} s after the kill; fence generation ${fence.generation}, acks ${acks.join(', ')}\n`);
    assert.equal(fence.node, victim);
    for (const n of bricks.filter((b) => b !== victim)) assert.ok(Number(pv.metadata.annotations[`storage.berth.dev/fence-ack.${n}`]) >= fence.generation, `brick node ${n} acknowledged`);
    assert.equal(JSON.parse((await json(['get', 'pvc', 'data-rdb-0'])).metadata.annotations['storage.berth.dev/fence']).generation, fence.generation);
    const story = await waitFor('MemberMoved on the claim', async () => { const r = await reasons('PersistentVolumeClaim', 'data-rdb-0'); return r.includes('MemberMoved') && r; }, 30_000);
    assert.deepEqual(story.filter((r) => ['NodeLost', 'MemberFenced', 'MemberMoved'].includes(r)), ['NodeLost', 'MemberFenced', 'MemberMoved']);
    assert.match(assertOk(await k(['describe', 'pvc', 'data-rdb-0']), 'describe pvc'), /MemberFenced .*storage fence generation \d+ on pvc-/s);
    // The data followed: the new copy reads the old copy's lines.
    const lines = assertOk(await k(['exec', 'rdb-0', '--', 'sh', '-c', `grep -c '^${victim} ' /data/beats`]), 'exec');
    assert.ok(Number(lines.trim()) > 0, `no line of the old copy in /data/beats (${lines.trim()})`);
    await lab.run(['restart', victim]);
    await waitFor('the PV fence lifted', async () => !(await json(['get', 'pv', pvName]))?.metadata.annotations?.['storage.berth.dev/fence'], 60_000, 500);
    assert.equal((await json(['get', 'pvc', 'data-rdb-0'])).metadata.annotations?.['storage.berth.dev/fence'], undefined);
    assert.ok((await runningOn('rdb-0', victim)), 'the member stays where it moved');
  });
});
