/**
 * The brick side of storage fencing (issue 16; what a SAN's LUN masking does for a fenced host):
 * while a PV carries ANN_FENCE {node, generation}, this node drops every packet from the fenced
 * node's address to its brick of that volume — established connections included, so a partitioned
 * writer cannot finish a write it began — and acknowledges with ANN_FENCE_ACK_PREFIX+<this node>.
 * One nftables table per node (`inet berth-storage-fence`, in the node's own network namespace),
 * rewritten whole in one `nft -f` transaction from the wanted rules, so a lifted fence leaves nothing.
 */
import { execFile } from 'node:child_process';

export const FENCE_TABLE = 'berth-storage-fence';
/** The ports glusterd hands bricks (its base-port … max-port). */
export const BRICK_PORTS = '49152-60999';

/** One blocked path: traffic from `from` to this node's brick of `volume`. */
export interface FenceRule {
  volume: string;
  from: string;
  /** The brick's port; undefined (brick offline, port unknown): every brick port. */
  port?: number;
}

/** The nft script that makes the table hold exactly `rules`. */
export function fenceScript(rules: readonly FenceRule[]): string {
  const lines = [
    `table inet ${FENCE_TABLE} {}`,
    `delete table inet ${FENCE_TABLE}`,
  ];
  if (rules.length) {
    lines.push(`table inet ${FENCE_TABLE} {`, '  chain input {', '    type filter hook input priority -5; policy accept;');
    for (const r of [...rules].sort((a, b) => `${a.volume}${a.from}`.localeCompare(`${b.volume}${b.from}`))) {
      lines.push(`    ip saddr ${r.from} tcp dport ${r.port ?? BRICK_PORTS} drop comment "fence ${r.volume}"`);
    }
    lines.push('  }', '}');
  }
  return lines.join('\n') + '\n';
}

/** Applies rule sets; only when they change. */
export class FenceTable {
  private applied = '';

  constructor(private readonly apply: (script: string) => Promise<void> = nftApply) {}

  async sync(rules: readonly FenceRule[]): Promise<void> {
    const script = fenceScript(rules);
    if (script === this.applied) return;
    await this.apply(script);
    this.applied = script;
  }
}

function nftApply(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], { timeout: 10_000 }, (err, _out, stderr) => (err ? reject(new Error(`nft: ${(stderr || err.message).trim()}`)) : resolve()));
    child.stdin!.end(script);
  });
}
