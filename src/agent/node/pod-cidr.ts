/**
 * The node's pod range from the control plane (the kubelet's wait for node.spec.podCIDR when
 * kube-controller-manager allocates node CIDRs): the agent makes its Node if there is none yet —
 * node IPAM only allocates for a Node that exists — then waits for spec.podCIDR(s), saying every
 * 10 s what it waits for. The range must lie inside the cluster CIDR the agent was given.
 */
import { cidrContains, parseCidr } from '../../apis/cidr.ts';
import { R, type Client } from '../../client/client.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { Logger } from '../../util/log.ts';
import { podCidrOf } from '../network/peers.ts';

export interface PodCidrWait {
  client: Client;
  nodeName: string;
  clusterCidr: string;
  log: Logger;
  /** Poll period (default 250 ms). */
  pollMs?: number;
  /** Give up after this long (default: never). */
  timeoutMs?: number;
}

export async function awaitPodCidr(o: PodCidrWait): Promise<string> {
  const started = Date.now();
  let said = 0;
  for (;;) {
    let node;
    try {
      node = await o.client.get(R.nodes, undefined, o.nodeName);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        node = await o.client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: o.nodeName } });
        o.log.info('node created; waiting for its pod range from the control plane', { node: o.nodeName });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        continue;
      }
    }
    const cidr = podCidrOf(node);
    if (cidr) {
      if (!cidrContains(parseCidr(o.clusterCidr, true), parseCidr(cidr))) {
        throw new Error(`node ${o.nodeName} has the pod range ${cidr}, outside --cluster-cidr ${o.clusterCidr}: give the agent the server's --cluster-cidr`);
      }
      o.log.info('pod range from the control plane', { node: o.nodeName, podCIDR: cidr });
      return cidr;
    }
    const waited = Date.now() - started;
    if (o.timeoutMs !== undefined && waited > o.timeoutMs) throw new Error(`node ${o.nodeName} got no pod range within ${Math.round(o.timeoutMs / 1000)} s (is the server's node IPAM on, with a free range in its --cluster-cidr?)`);
    if (waited - said >= 10_000) {
      said = waited;
      o.log.warn('still waiting for a pod range (spec.podCIDR) from the node IPAM controller', { node: o.nodeName, waitedSeconds: Math.round(waited / 1000) });
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
  }
}
