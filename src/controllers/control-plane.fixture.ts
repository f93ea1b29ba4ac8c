/**
 * Test support for controller tests: a real Berth server on SQLite in a temp dir, a LocalClient on
 * it, polling, and a FAKE node — tests mark pods Running + Ready by writing pod status themselves,
 * so no node agent is needed. Pods are left unbound (no spec.nodeName) so deletes are immediate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../apis/object.ts';
import { R, type Client } from '../client/client.ts';
import { LocalClient } from '../client/local-client.ts';
import { isConflict, isNotFound } from '../client/errors.ts';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { rfc3339 } from '../apis/time.ts';
import { serviceAccountKeys, TokenSigner } from '../auth/authn/service-account-token.ts';
import type { ControllerSettings } from './controller-descriptor.ts';
import { descriptorsNamed } from './descriptors.ts';
import { startControllers, type RunningControllers, type StartContext } from './start-controllers.ts';

/** A running test server and its client. */
export interface TestEnv {
  server: RunningServer;
  client: LocalClient;
  log: Logger;
  close(): Promise<void>;
}

/** Starts a server on a fresh temp dir. */
export async function startTestEnv(): Promise<TestEnv> {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-ctrl-'));
  const log = createLogger({ level: (process.env.BERTH_TEST_LOG as 'debug') || 'error' });
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log });
  return {
    server, client: new LocalClient(server.registry), log,
    async close() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The controller context of a test server (no factory: startControllers makes one). */
export function controllerContext(env: TestEnv, settings: ControllerSettings = {}): StartContext {
  const { registry } = env.server;
  const sa = env.server.pki.serviceAccountKey;
  const serviceAccountTokens = { rootCA: env.server.pki.ca.cert, signer: new TokenSigner(serviceAccountKeys(sa.key, sa.pub)) };
  return { client: env.client, log: env.log, registry, resources: registry.types.map((t) => t.info), settings, serviceAccountTokens };
}

/**
 * Runs the named controllers of descriptors.ts on the test server, on a factory of their own. The
 * server already runs `namespace` and `garbage-collector` (its controllers are off).
 */
export function startNamedControllers(env: TestEnv, names: string[], settings: ControllerSettings = {}): Promise<RunningControllers> {
  return startControllers(descriptorsNamed(...names), controllerContext(env, settings));
}

/** A controller that runs workers until stopped. */
export interface RunnableController {
  run(workers?: number): { stop(): Promise<void> };
}

/** A test server with one controller running on its own informer factory. */
export interface ControllerEnv<C> {
  env: TestEnv;
  factory: InformerFactory;
  ctl: C;
  /** Stops the controller, the informers and the server. */
  stop(): Promise<void>;
}

/** Starts a server, builds the controller on a fresh factory, syncs the informers and runs it. */
export async function startControllerEnv<C extends RunnableController>(make: (env: TestEnv, factory: InformerFactory) => C, workers?: number): Promise<ControllerEnv<C>> {
  const env = await startTestEnv();
  const factory = new InformerFactory(env.client);
  const ctl = make(env, factory);
  factory.start();
  await factory.waitForSync();
  const running = ctl.run(workers);
  return {
    env, factory, ctl,
    async stop() {
      await running.stop();
      factory.stop();
      await env.close();
    },
  };
}

/** Polls `fn` until it returns something other than undefined/false. */
export { waitFor } from '../util/wait.fixture.ts';

/** Live pods (not deleting) matching a label selector. */
export async function listPods(client: Client, namespace: string, labelSelector: string): Promise<KubeObject[]> {
  const { items } = await client.list(R.pods, namespace, { labelSelector });
  return items.filter((p) => !p.metadata.deletionTimestamp);
}

/** Marks one pod Running with Ready=True (the fake node's job). Skips pods that are gone. */
export async function markPodReady(client: Client, pod: KubeObject, ready = true): Promise<void> {
  const now = rfc3339();
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const cur = await client.get(R.pods, pod.metadata.namespace, pod.metadata.name!);
      const st = ready ? 'True' : 'False';
      cur.status = {
        ...(cur.status ?? {}), phase: 'Running', startTime: cur.status?.startTime ?? now,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: st, lastTransitionTime: now },
          { type: 'Ready', status: st, lastTransitionTime: now },
        ],
      };
      await client.update(R.pods, pod.metadata.namespace, cur, 'status');
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
    }
  }
}

/** Marks every live pod matching the selector Running + Ready that is not already; returns how many. */
export async function markPodsReady(client: Client, namespace: string, labelSelector: string): Promise<number> {
  let n = 0;
  for (const p of await listPods(client, namespace, labelSelector)) {
    const ready = (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    if (ready) continue;
    await markPodReady(client, p);
    n++;
  }
  return n;
}
