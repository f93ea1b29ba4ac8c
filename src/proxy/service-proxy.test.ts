/** The proxy's sync loop against a fake nft: batching, incremental scripts, failure → full resync. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../client/client.ts';
import { createLogger } from '../util/log.ts';
import { serviceObject, sliceObject } from './service-model.fixture.ts';
import { MemoryInformer } from './memory-informer.fixture.ts';
import { NftRunner } from './nft-runner.ts';
import { startServiceProxy } from './service-proxy.ts';

class FakeNft extends NftRunner {
  scripts: string[] = [];
  failNext = 0;
  sysctls: string[] = [];
  override async apply(script: string): Promise<void> {
    if (!script) return;
    if (this.failNext > 0) { this.failNext--; throw new Error('nft: simulated failure'); }
    this.scripts.push(script);
  }
  override async sysctlRead(): Promise<string> { return '0\n'; }
  override async sysctl(key: string, value: string): Promise<void> { this.sysctls.push(`${key}=${value}`); }
}

const log = createLogger({ level: 'error' });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup() {
  const services = new MemoryInformer(R.services);
  const slices = new MemoryInformer(R.endpointslices);
  const nft = new FakeNft();
  services.put(serviceObject('ns', 'a', { clusterIP: '10.61.0.1', ports: [{ port: 80 }] }));
  slices.put(sliceObject('ns', 'a', 'a-1', [{ port: 8080 }], [{ ip: '10.60.1.1' }]));
  const start = () => startServiceProxy({ source: { services, endpointSlices: slices }, nodeName: 'n', serviceCidr: '10.61.0.0/16', table: 'tt', runner: nft, logger: log, batchMs: 10 });
  return { services, slices, nft, start };
}

test('start writes the whole table once, after the caches, and sets route_localnet', async () => {
  const { nft, start } = setup();
  const proxy = await start();
  assert.equal(nft.scripts.length, 1);
  assert.match(nft.scripts[0], /^add table ip tt\ndelete table ip tt\n/);
  assert.match(nft.scripts[0], /10\.60\.1\.1:8080/);
  assert.deepEqual(nft.sysctls, ['net.ipv4.conf.all.route_localnet=1']);
  assert.deepEqual(proxy.stats().fullSyncs, 1);
  await proxy.stop({ cleanup: true });
  assert.equal(nft.scripts.at(-1), 'add table ip tt\ndelete table ip tt\n');
  assert.deepEqual(nft.sysctls, ['net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.all.route_localnet=0'], 'restored on cleanup');
});

test('events within the batching delay make one incremental transaction', async () => {
  const { slices, services, nft, start } = setup();
  const proxy = await start();
  services.put(serviceObject('ns', 'b', { clusterIP: '10.61.0.2', ports: [{ port: 80 }] }));
  slices.put(sliceObject('ns', 'a', 'a-1', [{ port: 8080 }], [{ ip: '10.60.1.2' }]));
  slices.put(sliceObject('ns', 'a', 'a-1', [{ port: 8080 }], [{ ip: '10.60.1.3' }]));
  await proxy.synced();
  assert.equal(nft.scripts.length, 2);
  const script = nft.scripts[1];
  assert.doesNotMatch(script, /delete table/);
  assert.match(script, /10\.60\.1\.3:8080/);
  assert.doesNotMatch(script, /10\.60\.1\.2:8080/, 'the intermediate state was never written');
  assert.match(script, /no-endpoint-services \{ 10\.61\.0\.2 \. tcp \. 80 : goto reject-chain \}/);
  // Deleting a Service whose slice remains removes its rules.
  services.remove('ns/a');
  await proxy.synced();
  assert.match(nft.scripts[2], /delete element ip tt service-ips \{ 10\.61\.0\.1 \. tcp \. 80 \}/);
  assert.match(nft.scripts[2], /delete chain ip tt service-\S+ns\/a\/tcp\//);
  await proxy.stop();
});

test('a failed sync is retried as a full resync; the process keeps going', async () => {
  const { slices, nft, start } = setup();
  const proxy = await start();
  nft.failNext = 2;
  slices.put(sliceObject('ns', 'a', 'a-1', [{ port: 8080 }], [{ ip: '10.60.1.9' }]));
  await proxy.synced();
  const st = proxy.stats();
  assert.equal(st.failures, 2);
  assert.equal(st.fullSyncs, 2);
  assert.match(nft.scripts.at(-1)!, /^add table ip tt\ndelete table ip tt\n[\s\S]*10\.60\.1\.9:8080/);
  await proxy.stop();
});

test('a failing first sync does not block start; events before start wait for the caches', async () => {
  const { nft, start } = setup();
  nft.failNext = 1;
  const proxy = await start();
  assert.equal(nft.scripts.length, 0);
  assert.equal(proxy.stats().failures, 1);
  await proxy.synced();
  assert.equal(nft.scripts.length, 1);
  await wait(30);
  assert.equal(nft.scripts.length, 1, 'nothing more to write');
  await proxy.stop();
});
