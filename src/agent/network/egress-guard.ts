/**
 * Keeps pod traffic on the machine. The CNI bridge plugin turns on IPv4 forwarding, and Berth does
 * not masquerade, so without this a pod's packet to an outside address would be forwarded out of a
 * host interface with its pod source address. Berth's own nftables table rejects anything that
 * arrives from its bridge and would leave through another interface; pod ↔ pod and pod ↔ host
 * traffic (the bridge itself, INPUT) is untouched. Applied atomically with `nft -f`.
 */
import { runCommand } from './exec.ts';

export const EGRESS_TABLE = 'berth-egress';

export function egressRuleset(bridge: string): string {
  return [
    `table inet ${EGRESS_TABLE} {}`,
    `delete table inet ${EGRESS_TABLE}`,
    `table inet ${EGRESS_TABLE} {`,
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
export async function removeEgressGuard(): Promise<void> {
  await nft(`table inet ${EGRESS_TABLE} {}\ndelete table inet ${EGRESS_TABLE}\n`);
}
