/**
 * Keeps pod traffic on the machine. The CNI bridge plugin turns on IPv4 forwarding, and Berth does
 * not masquerade, so without this a pod's packet to an outside address would be forwarded out of a
 * host interface with its pod source address. Berth's own nftables table rejects anything that
 * arrives from its bridge and would leave through another interface; pod ↔ pod and pod ↔ host
 * traffic (the bridge itself, INPUT) is untouched. Applied atomically with `nft -f`.
 */
import { runCommand } from '../../host/spawner.ts';

export const EGRESS_TABLE = 'berth-egress';

/** One table per bridge, so clusters side by side on one machine keep their own guard. */
export function egressTable(bridge: string): string {
  return bridge === 'berth0' ? EGRESS_TABLE : `${EGRESS_TABLE}-${bridge}`;
}

export function egressRuleset(bridge: string): string {
  const table = egressTable(bridge);
  return [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    iifname "${bridge}" oifname != "${bridge}" counter reject with icmpx type admin-prohibited`,
    '  }',
    '}',
  ].join('\n') + '\n';
}

async function nft(input: string): Promise<void> {
  const r = await runCommand('nft', ['-f', '-'], { input });
  if (r.code !== 0) throw new Error(`nft failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Installs (or replaces) the egress guard for `bridge`. */
export async function ensureEgressGuard(bridge = 'berth0'): Promise<void> {
  await nft(egressRuleset(bridge));
}

/** Removes the guard (clean shutdown with cleanup). */
export async function removeEgressGuard(bridge = 'berth0'): Promise<void> {
  const table = egressTable(bridge);
  await nft(`table inet ${table} {}\ndelete table inet ${table}\n`);
}
