import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { R } from '../client/client.ts';
import { LocalClient } from '../client/local-client.ts';
import { createLogger } from '../util/log.ts';
import { startServer, type RunningServer } from './berth-server.ts';
import { KubernetesServiceReconciler } from './kubernetes-service.ts';

let server: RunningServer;
let dataDir: string;
let client: LocalClient;
const log = createLogger({ level: 'error' });

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'berth-kubernetes-svc-'));
  server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log, serviceCidr: '10.97.0.0/16' });
  client = new LocalClient(server.registry);
});
after(async () => {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const sliceAddresses = async () => ((await client.get(R.endpointslices, 'default', 'kubernetes')).endpoints ?? []).map((e: any) => e.addresses[0]);
const endpointAddresses = async () => ((await client.get(R.endpoints, 'default', 'kubernetes')).subsets ?? []).flatMap((s: any) => s.addresses.map((a: any) => a.ip));

test('the server makes default/kubernetes at the first service address; a loopback server advertises no endpoint', async () => {
  const svc = await client.get(R.services, 'default', 'kubernetes');
  assert.equal(svc.spec.clusterIP, '10.97.0.1');
  const port = Number(new URL(server.url).port);
  assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }]);
  assert.deepEqual(await sliceAddresses(), []);
  assert.deepEqual(await endpointAddresses(), []);
});

test('several servers each add themselves; one that stops renewing drops out; a clean stop removes itself at once', async () => {
  const port = Number(new URL(server.url).port);
  let now = Date.now();
  const mk = (address: string) => new KubernetesServiceReconciler({ client, serviceCidr: '10.97.0.0/16', address, port, log, renewMs: 3600_000, now: () => new Date(now) });
  const a = mk('192.0.2.10');
  const b = mk('192.0.2.11');
  await a.start();
  assert.deepEqual(await sliceAddresses(), ['192.0.2.10']);
  await b.start();
  assert.deepEqual(await sliceAddresses(), ['192.0.2.10', '192.0.2.11']);
  await a.round();
  assert.deepEqual(await endpointAddresses(), ['192.0.2.10', '192.0.2.11']);
  const slice = await client.get(R.endpointslices, 'default', 'kubernetes');
  assert.equal(slice.metadata.labels?.['kubernetes.io/service-name'], 'kubernetes');
  assert.deepEqual(slice.ports, [{ name: 'https', port, protocol: 'TCP' }]);

  // b stops renewing (crashed): 16 s later a's round drops it.
  now += 16_000;
  await a.round();
  assert.deepEqual(await sliceAddresses(), ['192.0.2.10']);
  await b.round();
  assert.deepEqual(await sliceAddresses(), ['192.0.2.10', '192.0.2.11'], 'back once it renews');
  await b.stop();
  assert.deepEqual(await sliceAddresses(), ['192.0.2.10'], 'a clean stop takes itself out');
  assert.deepEqual(await endpointAddresses(), ['192.0.2.10']);

  // The Service deleted by hand, or its ports changed, is put back by the next round.
  await client.delete(R.services, 'default', 'kubernetes');
  await a.round();
  assert.equal((await client.get(R.services, 'default', 'kubernetes')).spec.clusterIP, '10.97.0.1');
  const svc = await client.get(R.services, 'default', 'kubernetes');
  await client.update(R.services, 'default', { ...svc, spec: { ...svc.spec, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 1 }] } });
  await a.round();
  assert.equal((await client.get(R.services, 'default', 'kubernetes')).spec.ports[0].targetPort, port);
  await a.stop();
  assert.deepEqual(await sliceAddresses(), []);
});
