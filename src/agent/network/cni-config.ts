/**
 * Berth's own CNI network: a conflist with the `bridge` plugin (bridge `berth0`, the node gateway
 * on the bridge, no masquerade, hairpin on, host-local IPAM over the node's pod CIDR, default
 * route inside the pod via the gateway). It is written to `DATA_DIR/cni/berth.conflist` so operators
 * can see exactly what the agent runs. The pod's `lo` is brought up by the agent itself (`ip link set
 * lo up`, beside the ADD) rather than by the `loopback` plugin: same result, and a Go plugin start is
 * ~20 ms of CPU per pod on a small host, twice (ADD and DEL).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CniConflist } from './cni.ts';
import { formatCidr, nthAddress, parseCidr } from '../../apis/cidr.ts';

/** Default node pod range when node.spec.podCIDR is unset. */
export const DEFAULT_NODE_POD_CIDR = '10.88.0.0/24';
/** Default bridge name. */
export const DEFAULT_BRIDGE = 'berth0';
/** CNI network name (also the host-local IPAM sub-directory and cache-file prefix). */
export const DEFAULT_NETWORK_NAME = 'berth';

/** Inputs of {@link buildBerthConflist}. */
export interface BerthCniOptions {
  /** The node's pod range (node.spec.podCIDR), e.g. `10.88.0.0/24`. */
  nodePodCidr: string;
  /** Directory of host-local IPAM state (`DATA_DIR/cni/ipam`). */
  ipamDataDir: string;
  bridgeName?: string;
  networkName?: string;
  mtu?: number;
}

/** Builds the Berth conflist (pure). The gateway is the range's first address. */
export function buildBerthConflist(opts: BerthCniOptions): CniConflist {
  const subnet = parseCidr(opts.nodePodCidr, true);
  if (subnet.prefix > 30) throw new Error(`node pod CIDR ${opts.nodePodCidr} is too small (need at least /30)`);
  const bridge: CniConflist['plugins'][number] = {
    type: 'bridge',
    bridge: opts.bridgeName ?? DEFAULT_BRIDGE,
    isGateway: true,
    isDefaultGateway: false,
    ipMasq: false,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: formatCidr(subnet), gateway: nthAddress(subnet, 1) }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: opts.ipamDataDir,
    },
  };
  if (opts.mtu) bridge.mtu = opts.mtu;
  return {
    cniVersion: '1.0.0',
    name: opts.networkName ?? DEFAULT_NETWORK_NAME,
    plugins: [bridge],
  };
}

/** Writes the conflist to `<cniDir>/berth.conflist` atomically; returns the path. */
export async function writeBerthConflist(cniDir: string, list: CniConflist): Promise<string> {
  await mkdir(cniDir, { recursive: true });
  const file = path.join(cniDir, `${list.name}.conflist`);
  await writeFile(file + '.tmp', JSON.stringify(list, null, 2) + '\n');
  await rename(file + '.tmp', file);
  return file;
}
