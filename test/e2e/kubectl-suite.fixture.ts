/**
 * What both halves of the kubectl acceptance suite share (kubectl-read.case.ts, kubectl-write.case.ts):
 * the server and kubectl wrappers bound to it, the manifests under fixtures/, small object builders.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BerthServer } from '../support/berth-server.ts';
import type { KubectlResult } from '../support/kubectl.ts';
import { assertFails, assertOk, parseJson } from '../support/kubectl-assert.ts';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const APP = path.join(FIXTURES, 'app.yaml');
export const APP_V2 = path.join(FIXTURES, 'app-v2.yaml');
export const T = { timeout: 90_000 };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A Deployment used by the mutation tests (created with `kubectl create -f -`). */
export function mutDeployment(name: string, ns: string): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'docker.io/library/busybox:1.36',
              command: ['sleep', '3600'],
              env: [{ name: 'A', value: '1' }],
              ports: [{ name: 'http', containerPort: 8080 }],
            },
          ],
        },
      },
    },
  };
}

export function configMap(name: string, ns: string, data: Record<string, string>, extraMeta: Record<string, unknown> = {}): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extraMeta }, data };
}

type KubectlOpts = { input?: string; env?: Record<string, string>; timeoutMs?: number };

/** The suite's server (once `before` started it) and kubectl bound to it. */
export interface KubectlSuite {
  srv(): BerthServer;
  k(args: string[], opts?: KubectlOpts): Promise<KubectlResult>;
  /** kubectl that must succeed; its stdout. */
  ok(args: string[], opts?: KubectlOpts): Promise<string>;
  getJson(args: string[]): Promise<any>;
  /** `kubectl get` of one object answers NotFound. */
  assertNotFound(args: string[]): Promise<void>;
  /** Creates objects from JSON with `kubectl create -f -` (setup; avoids typed-client generators). */
  createObjects(...objs: object[]): Promise<void>;
  createNs(name: string): Promise<void>;
  /** The server still answers and kubectl still works. */
  assertServing(): Promise<void>;
}

export function kubectlSuite(server: () => BerthServer | undefined): KubectlSuite {
  const srv = (): BerthServer => {
    const s = server();
    assert.ok(s, 'Berth server did not start (see the before hook failure)');
    return s;
  };
  const k = (args: string[], opts?: KubectlOpts): Promise<KubectlResult> => srv().kubectl(args, opts);
  const ok = async (args: string[], opts?: KubectlOpts): Promise<string> => assertOk(await k(args, opts), `kubectl ${args.join(' ')}`);
  const createObjects = async (...objs: object[]): Promise<void> => {
    await ok(['create', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
  };
  return {
    srv, k, ok, createObjects,
    getJson: async (args) => parseJson(await ok([...args, '-o', 'json']), `kubectl ${args.join(' ')}`),
    assertNotFound: async (args) => { assertFails(await k(args), `kubectl ${args.join(' ')} (expected NotFound)`, /NotFound|not found/); },
    createNs: (name) => createObjects({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    assertServing: async () => {
      assert.match(await ok(['get', '--raw', '/readyz']), /ok/);
      await ok(['get', 'namespaces']);
    },
  };
}
