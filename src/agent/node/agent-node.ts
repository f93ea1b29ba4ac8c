/**
 * The node agent's entry in the API, before it runs any pod: the RuntimeClasses of its drivers,
 * its Node (registered, then kept current with its Lease: node-registration.ts), and where the API
 * server reaches its stream server — the Node's agent-url annotation, by which logs, exec, attach
 * and port-forward are proxied (the kubelet is reached at status.daemonEndpoints and the node's
 * address; Berth's agent may listen elsewhere) — and, when the node self-fences, its fenceAfter.
 */
import { AGENT_URL_ANNOTATION } from '../../apis/well-known.ts';
import { R, type Client } from '../../client/client.ts';
import type { Logger } from '../../util/log.ts';
import { ANN_NODE_FENCE_AFTER } from '../../apis/volumes/replicated.ts';
import { registerNode, type NodeRegistration, type RegisterNodeOptions } from './node-registration.ts';
import { ensureRuntimeClasses } from './runtime-classes.ts';

export interface AgentNodeOptions {
  nodeName: string;
  /** spec.podCIDR. */
  podCidr: string;
  /** The agent server's URL as it listens (a wildcard host is advertised as `hostIP`). */
  serverUrl: string;
  /** The node's IPv4 address. */
  hostIP: string;
  /** The RuntimeClass handlers this node offers. */
  runtimeHandlers: string[];
  /** Whose file system is the node's ephemeral storage. */
  dataDir: string;
  log: Logger;
  /** Self-fencing: fenceAfter (announced on the Node, ANN_NODE_FENCE_AFTER) and the renewal hooks (node-registration.ts). */
  fence?: { afterSeconds: number } & Pick<RegisterNodeOptions, 'onRenewed' | 'onResume'>;
}

/** The URL the API server should use for the agent: a wildcard bind is reached at the node's address. */
export function advertisedUrl(serverUrl: string, hostIP: string): string {
  return serverUrl.replace(/\/\/(0\.0\.0\.0|\[::\]):/, `//${hostIP}:`);
}

/** Registers the node (RuntimeClasses, Node, Lease, agent URL); the registration's loops run until stopped. */
export async function registerAgentNode(client: Client, o: AgentNodeOptions): Promise<NodeRegistration> {
  await ensureRuntimeClasses(client, o.runtimeHandlers);
  const registration = await registerNode(client, { nodeName: o.nodeName, podCIDR: o.podCidr, agentPort: Number(new URL(o.serverUrl).port), ready: () => true, dataDir: o.dataDir, log: o.log,
    onRenewed: o.fence?.onRenewed, onResume: o.fence?.onResume,
  });
  try {
    // The fencing controller reads how soon this node's stateful containers die without the API (null: they do not).
    const annotations = { [AGENT_URL_ANNOTATION]: advertisedUrl(o.serverUrl, o.hostIP), [ANN_NODE_FENCE_AFTER]: o.fence ? String(o.fence.afterSeconds) : null };
    await client.patch(R.nodes, undefined, o.nodeName, 'merge', { metadata: { annotations } });
  } catch (err) {
    await registration.stop();
    throw err;
  }
  return registration;
}
