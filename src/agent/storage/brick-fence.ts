/**
 * The brick side of storage fencing (issue 16; what a SAN's LUN masking does for a fenced host):
 * while a PV carries ANN_FENCE {node, generation}, this node drops every packet from the fenced
 * node's address to its brick of that volume — established connections included, so a partitioned
 * writer cannot finish a write it began, and cut (`ss -K`) so the brick lets go of its locks at once —
 * and acknowledges with ANN_FENCE_ACK_PREFIX+<this node>.
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

/** The `ss` filter arguments for a rule's connections: from the fenced node to the brick's port(s). */
export function cutArgs(r: FenceRule): string[] {
  const [lo, hi] = BRICK_PORTS.split('-');
  return ['-K', '-tn', 'dst', r.from, ...(r.port ? ['sport', '=', `:${r.port}`] : ['(', 'sport', '>=', `:${lo}`, 'and', 'sport', '<=', `:${hi}`, ')'])];
}

/**
 * Applies rule sets, only when they change; a rule that is new also cuts the fenced node's
 * established connections to the brick (`ss -K`): the brick sees its client gone at once and
 * releases what it held — POSIX locks, open fds — instead of after its TCP timeouts, so the
 * member's replacement does not wait on the old copy's lock (SQLite's, bbolt's flock).
 */
export class FenceTable {
  private applied = '';
  private rules = new Set<string>();

  constructor(private readonly apply: (script: string) => Promise<void> = nftApply, private readonly cut: (r: FenceRule) => Promise<void> = ssCut) {}

  async sync(rules: readonly FenceRule[]): Promise<void> {
    const script = fenceScript(rules);
    if (script === this.applied) return;
    await this.apply(script);
    this.applied = script;
    const before = this.rules;
    this.rules = new Set(rules.map((r) => JSON.stringify(r)));
    // After the drop rule is in place, so nothing reconnects in between; a failed cut is not fatal (the TCP timeouts still end it).
    for (const r of rules) if (!before.has(JSON.stringify(r))) await this.cut(r).catch(() => {});
  }
}

function ssCut(r: FenceRule): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ss', cutArgs(r), { timeout: 10_000 }, (err, _out, stderr) => (err ? reject(new Error(`ss: ${(stderr || err.message).trim()}`)) : resolve()));
  });
}

function nftApply(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], { timeout: 10_000 }, (err, _out, stderr) => (err ? reject(new Error(`nft: ${(stderr || err.message).trim()}`)) : resolve()));
    child.stdin!.end(script);
  });
}
