/**
 * kubectl acceptance suite against Berth on a real etcd (started by test/support/etcd.ts).
 * Run: node --import tsx --test test/e2e/kubectl-etcd.test.ts
 */
import { after } from 'node:test';
import { startBerth } from '../support/berth-server.ts';
import { startEtcd } from '../support/etcd.ts';
import { runKubectlSuite } from './kubectl.case.ts';

let etcd: { endpoint: string; stop(): Promise<void> } | undefined;

runKubectlSuite('etcd', async () => {
  etcd = await startEtcd();
  return startBerth({ store: `etcd://${etcd.endpoint}` });
});

after(async () => {
  await etcd?.stop();
});
