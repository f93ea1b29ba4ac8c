/**
 * What the API server serves for the web UI (kube-apiserver once redirected /ui to the Dashboard,
 * an add-on; Berth serves its own): the built static assets at /ui/ and the data routes the UI
 * reads beside the Kubernetes API (the multiplexed watch stream, the nodes' observed connections).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Authorizer } from '../../auth/attributes.ts';
import type { LocalClient } from '../../client/local-client.ts';
import type { Route } from '../../api/route-table.ts';
import { uiStreamRoute } from './ui-stream.ts';
import { connectionsRoute } from './connections.ts';
import type { AgentTls } from '../../api/proxy/pod-stream-proxy.ts';

/**
 * Where scripts/build.sh puts the built UI: `dist/ui` of the checkout. This module runs as
 * `src/server/ui/ui-serving.ts` (tsx) or as `dist/src/server/ui/ui-serving.js` (built), so both
 * are found from here.
 */
export function uiAssetsDir(): string {
  const up3 = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
  return basename(up3) === 'dist' ? join(up3, 'ui') : join(up3, 'dist', 'ui');
}

export interface UiServing {
  staticAssets: { prefix: string; dir: string }[];
  routes: Route[];
}

/**
 * The UI's assets (when built) and routes; every data route acts as, or is authorized for, the
 * request's user. `agentTls` is how the server reaches node agents (their /traffic).
 */
export function uiServing(client: LocalClient, authorizer: Authorizer, agentTls: () => AgentTls | undefined, dir = uiAssetsDir()): UiServing {
  return {
    staticAssets: existsSync(dir) ? [{ prefix: '/ui/', dir }] : [],
    routes: [uiStreamRoute((r) => client.as({ user: r.user, authorizer })), connectionsRoute(client, authorizer, agentTls)],
  };
}
