/**
 * End to end, issue 16's acceptance: a lost stateful member replaced by an exact copy — same name,
 * DNS and data — on `berth lab` (4 real agents in network namespaces, a real server, kubectl over
 * TLS), with an unmodified 3-member etcd (Debian's /usr/bin/etcd) as a StatefulSet of process pods.
 * Kubernetes' own behaviour for the same failure is no automatic recovery (the pod stays
 * Terminating until a human force-deletes it; an RWO volume waits ~6 min to force-detach).
 *
 *   baseline        the 3 members form one cluster on distinct nodes; a writer (a key every 10 ms
 *                   through a NodePort from the machine) has every acknowledged key readable
 *
 * Each member runs under fixtures/member-wrapper.py, which logs its process's own launch, a 50 ms
 * heartbeat and exit to a file under the suite's temp dir on the host — the evidence of "never two
 * copies" comes from the processes, not from Berth. Serial (machine lock: bridges, namespaces,
 * cgroups); needs root. Cluster DNS forwards to a dnsmasq on loopback (the lab fixture's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLab, type TestLab } from '../../src/lab/lab.fixture.ts';
import { assertOk } from '../support/kubectl-assert.ts';
import { ClusterView, EtcdWriter, etcdObjects, etcdStatus, sleep, type MemberPod } from './stateful-failover.fixture.ts';

const STORAGE_CLASS = process.env.FAILOVER_STORAGE_CLASS ?? 'local-path';

describe('stateful failover on berth lab (issue 16)', { concurrency: false }, () => {
  let lab: TestLab;
  let view: ClusterView;
  let work: string;
  let logDir: string;

  async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try { const v = await fn(); if (v) return v; last = v; } catch (err) { last = err; }
      await sleep(everyMs);
    }
    const objects = await lab.kubectl(['get', 'nodes,pods,pvc,pv', '-A', '-o', 'wide']).then((r) => r.stdout + r.stderr, (err) => String(err));
    const logs = lab.state().nodes.map((n) => `--- ${n.name}\n${lab.logTail(n.name, 15)}`).join('\n');
    throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})\n${objects}\n${logs}\n--- server\n${lab.logTail('server', 20)}`);
  }
  const apply = async (objs: object[]) => assertOk(await lab.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs })), 'apply');
  const nodePortOf = async (ns: string, svc: string) => Number(assertOk(await lab.kubectl(['get', 'svc', svc, '-n', ns, '-o', 'jsonpath={.spec.ports[0].nodePort}']), 'nodePort').trim());

  /** Waits for 3 Ready members on 3 distinct nodes that agree on one cluster of 3; returns them with their etcd member IDs. */
  async function formedCluster(ns: string, timeoutMs = 120_000): Promise<{ pods: MemberPod[]; ids: Map<string, string>; clusterId: string }> {
    return waitFor(`3 etcd members Ready in ${ns}, one cluster`, async () => {
      const pods = (await view.members(ns)).filter((p) => !p.deleting);
      if (pods.length !== 3 || !pods.every((p) => p.ready && p.ip) || new Set(pods.map((p) => p.node)).size !== 3) return false;
      const ids = new Map<string, string>();
      let clusterId = '';
      for (const p of pods) {
        const s = await etcdStatus(view.netnsOf(p.node), p.ip);
        if (!s?.healthy || s.members.length !== 3) return false;
        if (clusterId && s.clusterId !== clusterId) throw new Error(`${p.name} is in cluster ${s.clusterId}, not ${clusterId}`);
        clusterId = s.clusterId;
        ids.set(p.name, s.memberId);
      }
      return { pods, ids, clusterId };
    }, timeoutMs, 500);
  }

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-failover-'));
    logDir = path.join(work, 'life');
    mkdirSync(logDir, { recursive: true });
    lab = await startLab({ nodes: 4, storage: STORAGE_CLASS === 'replicated' });
    view = new ClusterView(lab);
  });
  after(async () => {
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test(`baseline (${STORAGE_CLASS}): 3 members form one cluster on distinct nodes, the writer's acknowledged keys are all there`, async () => {
    const ns = 'base';
    assertOk(await lab.kubectl(['create', 'namespace', ns]), 'namespace');
    const t0 = Date.now();
    await apply(etcdObjects({ namespace: ns, storageClass: STORAGE_CLASS, logDir: path.join(logDir) }));
    const formed = await formedCluster(ns);
    const formedS = (Date.now() - t0) / 1000;
    const writer = new EtcdWriter(() => view.addresses(), await nodePortOf(ns, 'etcd-client'), '/base/');
    writer.start();
    await sleep(5_000);
    await writer.stop();
    const present = await writer.keysPresent();
    const missing = writer.acked.filter((a) => !present.has(a.key));
    process.stdout.write(`# baseline: cluster ${formed.clusterId} of ${[...formed.ids].map(([n, id]) => `${n}=${id}@${formed.pods.find((p) => p.name === n)!.node}`).join(' ')} formed in ${formedS.toFixed(1)} s; `
      + `${writer.acked.length} writes acknowledged in 5 s, ${writer.failures} failed, ${missing.length} missing\n`);
    assert.ok(writer.acked.length > 100, `only ${writer.acked.length} writes acknowledged in 5 s`);
    assert.deepEqual(missing, []);
  });
});
