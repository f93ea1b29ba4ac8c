/**
 * Waiting, through the API with the lab's admin kubeconfig, until the lab's Nodes are Ready (what
 * `kind create cluster --wait` and `kubectl wait --for=condition=Ready node` do), failing early
 * with the agent's log when one of them exits.
 */
import { R } from '../client/client.ts';
import { HttpClient } from '../client/http-client.ts';
import type { KubeObject } from '../apis/object.ts';
import type { NodeState } from './lab-state.ts';
import { isAlive, logTail } from './lab-processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readyStatus(node: KubeObject | undefined): string | undefined {
  const conditions = (node?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
  return conditions?.find((c) => c.type === 'Ready')?.status;
}

/**
 * Resolves once every node in `nodes` is Ready, with each one's spec.podCIDR (node IPAM's); throws
 * after `timeoutMs` or when an agent exits.
 */
export async function waitNodesReady(kubeconfig: string, nodes: NodeState[], timeoutMs: number): Promise<Map<string, string | undefined>> {
  const client = HttpClient.fromKubeconfig(kubeconfig);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer from the API server yet';
  try {
    for (;;) {
      for (const n of nodes) {
        if (!isAlive(n.agent)) throw new Error(`the agent of ${n.name} exited; the end of ${n.agent?.log}:\n${logTail(n.agent?.log ?? '')}`);
      }
      try {
        const list = await client.list(R.nodes, undefined);
        const byName = new Map(list.items.map((o) => [o.metadata.name as string, o]));
        const waiting = nodes.filter((n) => readyStatus(byName.get(n.name)) !== 'True');
        if (!waiting.length) return new Map(nodes.map((n) => [n.name, (byName.get(n.name)?.spec as { podCIDR?: string } | undefined)?.podCIDR]));
        last = `not Ready yet: ${waiting.map((n) => `${n.name} (${byName.has(n.name) ? `Ready=${readyStatus(byName.get(n.name)) ?? 'unknown'}` : 'not registered'})`).join(', ')}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        const tails = nodes.map((n) => `--- ${n.name}: ${n.agent?.log}\n${logTail(n.agent?.log ?? '', 8)}`).join('\n');
        throw new Error(`nodes not Ready within ${Math.round(timeoutMs / 1000)} s: ${last}\n${tails}`);
      }
      await sleep(200);
    }
  } finally {
    client.close();
  }
}
