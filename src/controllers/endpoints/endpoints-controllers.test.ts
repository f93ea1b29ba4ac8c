import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import type { RunningController } from '../../client/controller.ts';
import { startControllerEnv, waitFor, type ControllerEnv } from '../control-plane.fixture.ts';
import { EndpointSliceController } from './endpointslice-controller.ts';
import { EndpointsController } from './endpoints-controller.ts';
import { SERVICE_NAME_LABEL } from '../../apis/well-known.ts';

/** Both controllers on one factory (as the server runs them). */
class Both {
  constructor(readonly slices: EndpointSliceController, readonly endpoints: EndpointsController) {}
  run(): RunningController {
    const a = this.slices.run(2);
    const b = this.endpoints.run(2);
    return { stop: async () => { await a.stop(); await b.stop(); } } as RunningController;
  }
}

const NS = 'default';

describe('EndpointSlice and Endpoints controllers', () => {
  let env: ControllerEnv<Both>;
  before(async () => {
    env = await startControllerEnv((e, f) => new Both(new EndpointSliceController(e.client, f, e.log), new EndpointsController(e.client, f, e.log)));
  });
  after(async () => { await env.stop(); });

  const client = () => env.env.client;
  const slicesOf = async (svc: string) => (await client().list(R.endpointslices, NS, { labelSelector: `${SERVICE_NAME_LABEL}=${svc}` })).items;
  const endpointsOf = async (svc: string) => client().get(R.endpoints, NS, svc).catch(() => undefined);

  async function makePod(name: string, opts: { ip: string; ready: boolean; labels?: Record<string, string>; ports?: any[]; hostname?: string; subdomain?: string }): Promise<void> {
    await client().create(R.pods, NS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: opts.labels ?? { app: 'web' } },
      spec: { nodeName: 'node-a', hostname: opts.hostname, subdomain: opts.subdomain, containers: [{ name: 'c', image: 'host', ports: opts.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
    });
    await setReady(name, opts.ready, opts.ip);
  }
  async function setReady(name: string, ready: boolean, ip?: string): Promise<void> {
    const p = await client().get(R.pods, NS, name);
    p.status = { phase: 'Running', podIP: ip ?? p.status?.podIP, podIPs: [{ ip: ip ?? p.status?.podIP }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
    await client().update(R.pods, NS, p, 'status');
  }
  const readyIps = (slices: KubeObject[]) => slices.flatMap((s) => (s.endpoints ?? []).filter((e: any) => e.conditions.ready).map((e: any) => e.addresses[0])).sort();

  test('ready and not-ready pods, named target ports, and the mirrored Endpoints', async () => {
    await makePod('web-1', { ip: '10.200.0.1', ready: true });
    await makePod('web-2', { ip: '10.200.0.2', ready: false });
    await makePod('other', { ip: '10.200.0.9', ready: true, labels: { app: 'other' } });
    await client().create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
    const slices = await waitFor(async () => { const s = await slicesOf('web'); return s.some((x) => (x.endpoints ?? []).length === 2) && s; }, 'slices for web');
    assert.equal(slices.length, 1);
    const slice = slices[0]!;
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
    assert.equal(slice.metadata.ownerReferences![0]!.kind, 'Service');
    assert.equal(slice.metadata.labels!['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.deepEqual(readyIps(slices), ['10.200.0.1']);
    assert.equal(slice.endpoints.find((e: any) => e.addresses[0] === '10.200.0.1').nodeName, 'node-a');
    const ep = await waitFor(async () => { const e = await endpointsOf('web'); return e?.subsets?.[0]?.notReadyAddresses && e; }, 'endpoints for web');
    assert.deepEqual(ep.subsets[0].addresses.map((a: any) => a.ip), ['10.200.0.1']);
    assert.deepEqual(ep.subsets[0].notReadyAddresses.map((a: any) => a.ip), ['10.200.0.2']);
    assert.deepEqual(ep.subsets[0].ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);

    // Readiness flips move the address.
    await setReady('web-2', true);
    await waitFor(async () => readyIps(await slicesOf('web')).length === 2, 'web-2 ready in the slice');
    await waitFor(async () => (await endpointsOf('web'))?.subsets?.[0]?.addresses?.length === 2, 'web-2 ready in Endpoints');
    // A deleted pod leaves both.
    await client().delete(R.pods, NS, 'web-1', { gracePeriodSeconds: 0 });
    await waitFor(async () => JSON.stringify(readyIps(await slicesOf('web'))) === '["10.200.0.2"]', 'web-1 gone from the slice');
    // Deleting the Service removes the Endpoints (and the GC, not running here, would remove slices; the controller removes them too).
    await client().delete(R.services, NS, 'web');
    await waitFor(async () => (await endpointsOf('web')) === undefined, 'Endpoints removed');
    await waitFor(async () => (await slicesOf('web')).length === 0, 'slices removed');
  });

  test('no selected pods gives a placeholder slice; a selector-less Service is left alone', async () => {
    await client().create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty' }, spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }] } });
    const s = await waitFor(async () => { const x = await slicesOf('empty'); return x.length === 1 && x; }, 'placeholder');
    assert.deepEqual(s[0]!.endpoints ?? [], []);
    await waitFor(async () => (await endpointsOf('empty')) !== undefined, 'empty Endpoints');
    await client().create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await slicesOf('manual')).length, 0);
    assert.equal(await endpointsOf('manual'), undefined);
  });

  test('headless service with hostname/subdomain pods and publishNotReadyAddresses', async () => {
    await makePod('db-0', { ip: '10.200.1.1', ready: false, labels: { app: 'db' }, hostname: 'db-0', subdomain: 'db' });
    await client().create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] } });
    const s = await waitFor(async () => { const x = await slicesOf('db'); return x[0]?.endpoints?.length === 1 && x; }, 'db slice');
    assert.equal(s[0]!.endpoints[0].hostname, 'db-0');
    assert.equal(s[0]!.endpoints[0].conditions.ready, true, 'published although not ready');
    const ep = await waitFor(async () => { const e = await endpointsOf('db'); return e?.subsets?.[0] && e; }, 'db Endpoints');
    assert.equal(ep.subsets[0].addresses[0].hostname, 'db-0');
    assert.equal(ep.metadata.labels['service.kubernetes.io/headless'], '');
  });

  test('pods by label index: a pod relabelled from one Service\'s selector to another\'s leaves the first and joins the second', async () => {
    await makePod('blue-1', { ip: '10.202.0.1', ready: true, labels: { app: 'blue', tier: 'x' } });
    await makePod('blue-2', { ip: '10.202.0.2', ready: true, labels: { app: 'blue', tier: 'x' } });
    await makePod('green-1', { ip: '10.202.0.3', ready: true, labels: { app: 'green', tier: 'x' } });
    // Two pairs: the smaller bucket (app) is read, tier still filters.
    for (const app of ['blue', 'green']) await client().create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: app }, spec: { selector: { app, tier: 'x' }, ports: [{ port: 80 }] } });
    await waitFor(async () => JSON.stringify(readyIps(await slicesOf('blue'))) === '["10.202.0.1","10.202.0.2"]', 'blue\'s two pods');
    await waitFor(async () => JSON.stringify(readyIps(await slicesOf('green'))) === '["10.202.0.3"]', 'green\'s pod');
    await client().patch(R.pods, NS, 'blue-2', 'merge', { metadata: { labels: { app: 'green' } } });
    await waitFor(async () => JSON.stringify(readyIps(await slicesOf('blue'))) === '["10.202.0.1"]', 'blue-2 left blue\'s slice');
    await waitFor(async () => JSON.stringify(readyIps(await slicesOf('green'))) === '["10.202.0.2","10.202.0.3"]', 'blue-2 joined green\'s slice');
    await waitFor(async () => JSON.stringify((await endpointsOf('green'))?.subsets?.[0]?.addresses?.map((a: any) => a.ip)) === '["10.202.0.2","10.202.0.3"]', 'and green\'s Endpoints');
    // A label that no longer fits the second pair drops it too.
    await client().patch(R.pods, NS, 'blue-2', 'merge', { metadata: { labels: { tier: 'y' } } });
    await waitFor(async () => JSON.stringify(readyIps(await slicesOf('green'))) === '["10.202.0.3"]', 'blue-2 out of green by tier');
    await waitFor(async () => (await endpointsOf('green'))?.subsets?.[0]?.addresses?.length === 1, 'and out of green\'s Endpoints');
  });

  test('250 pods spread over slices of at most 100', async () => {
    for (let i = 0; i < 250; i++) {
      await client().create(R.pods, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `many-${i}`, labels: { app: 'many' } }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'host' }] } });
    }
    for (let i = 0; i < 250; i++) await setReady(`many-${i}`, true, `10.201.${i >> 8}.${i & 255}`);
    await client().create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'many' }, spec: { selector: { app: 'many' }, ports: [{ port: 80 }] } });
    const s = await waitFor(async () => { const x = await slicesOf('many'); return x.reduce((n, y) => n + (y.endpoints?.length ?? 0), 0) === 250 && x; }, '250 endpoints', 15000);
    assert.deepEqual(s.map((x) => x.endpoints.length).sort((a, b) => b - a), [100, 100, 50]);
  });
});
