/**
 * Connecting to a TCP port "in the pod", as the kubelet's port-forward does: to localhost inside
 * the pod's network namespace (IPv4, then IPv6). A Node process cannot open a socket in another
 * namespace, so the agent's spawn helper does (src/host/spawner.ts: setns, connect, back to its own
 * namespace) and hands the connected socket over — the agent then holds the pod-side socket
 * itself, as containerd's port-forward does after its setns. Pods on the host network are dialled
 * directly.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { dialInNetns } from '../../host/spawner.ts';

/** Where a pod's ports are: its network namespace, or the host's when `netnsPath` is undefined. */
export interface PodNetworkTarget {
  netnsPath?: string;
}

async function dialNetns(netnsPath: string, port: number): Promise<Duplex> {
  try {
    return await dialInNetns(netnsPath, port);
  } catch (err) {
    throw new Error(`failed to connect to localhost:${port} inside namespace "${netnsPath}", ${(err as Error).message}`);
  }
}

function connectOnce(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

async function dialHost(port: number): Promise<Duplex> {
  const errs: string[] = [];
  for (const [family, host, shown] of [['IPv4', '127.0.0.1', '127.0.0.1'], ['IPv6', '::1', '[::1]']]) {
    try {
      return await connectOnce(host, port);
    } catch (err) {
      errs.push(`${family}: dial ${shown}:${port}: ${(err as Error).message}`);
    }
  }
  throw new Error(`failed to connect to localhost:${port} on the host network, ${errs.join(', ')}`);
}

/** Connects to `port` on the pod's localhost; resolves once connected, rejects with why not. */
export function dialPod(target: PodNetworkTarget, port: number): Promise<Duplex> {
  return target.netnsPath ? dialNetns(target.netnsPath, port) : dialHost(port);
}
