/**
 * What a pod-network backend is (flannel's backend.Backend / Network): it prepares this node
 * (a device, sysctls), says what other nodes must know of it (Node annotations), and makes the
 * kernel's routes and entries match the peers it is given — idempotently, removing what no peer
 * needs any more, reading the kernel's state each time (so a restart resyncs, never duplicates).
 * `remove` undoes everything, for an agent that leaves for good. A NetworkPolicy backend would sit
 * beside these (it filters; these route), fed the same informers.
 */
import type { PeerNode } from './peers.ts';

export const BACKENDS = ['host-gw', 'vxlan'] as const;
export type BackendKind = (typeof BACKENDS)[number];

/** One kernel command of a plan: `ip …` or `bridge …` (argv, no shell). */
export type NetCommand = { cmd: 'ip' | 'bridge'; args: string[] };

export interface NetworkBackend {
  readonly kind: BackendKind;
  /** Prepares this node; returns the annotations its Node should carry. */
  setup(): Promise<Record<string, string>>;
  /** Routes and entries for exactly these peers; returns the commands it ran. */
  sync(peers: PeerNode[]): Promise<NetCommand[]>;
  /** Removes every route, entry and device it made. */
  remove(): Promise<void>;
}

/** Routes the backends own carry this protocol number, so they are told apart from anyone else's. */
export const ROUTE_PROTO = '66';

export function parseBackend(value: string): BackendKind {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendKind;
  throw new Error(`unknown network backend ${JSON.stringify(value)}: use ${BACKENDS.join(' or ')}`);
}

export function formatCommand(c: NetCommand): string {
  return `${c.cmd} ${c.args.join(' ')}`;
}

/**
 * Runs a plan in order; a failing command does not stop the others (one unreachable peer must not
 * cut the rest off). Throws at the end, naming every failure, so the caller retries.
 */
export async function runPlan(plan: NetCommand[]): Promise<void> {
  const { runCommand } = await import('../../host/spawner.ts');
  const failed: string[] = [];
  for (const c of plan) {
    const r = await runCommand(c.cmd, c.args);
    if (r.code !== 0) failed.push(`${formatCommand(c)}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  if (failed.length) throw new Error(`${failed.length} of ${plan.length} network commands failed: ${failed.join('; ')}`);
}
