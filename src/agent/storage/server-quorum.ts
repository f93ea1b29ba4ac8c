/**
 * glusterd's server quorum, checked before the agent restarts its own glusterd. The volumes run with
 * `cluster.server-quorum-type server`: a glusterd that counts too few live members stops every brick
 * of theirs on its machine ("Server quorum lost for volume … Stopping local bricks") until it counts
 * enough again. glusterd's rule (glusterd-server-quorum.c, glusterd_get_quorum_cluster_counts):
 * members = itself + every peer that counts (`quorum_contrib` UP or DOWN: befriended peers it has
 * seen since it started), live = itself + peers UP (befriended, connected, their friend exchange
 * accepted: gd_does_peer_affect_quorum); met while live ≥ members × 50 / 100 + 1 (integer division:
 * more than half), or ≥ ⌈members × ratio⌉ with `cluster.server-quorum-ratio` (Berth sets none).
 *
 * A restart (SIGTERM, then start) drops this glusterd's connections, so for a few seconds every peer
 * that counted it UP counts it DOWN — in a pool of 4 with one member down, that leaves the other two
 * at 2 of 4 and all their bricks stop. So an unasked restart (volume import, half-joined repair, a
 * deleted volume's spread or drop) waits while it would take quorum from a member that has it. A
 * member already short of quorum loses nothing more (its bricks are stopped), so it does not hold a
 * restart back — one that may be the repair it needs. Not gated: starting a glusterd that is not
 * running (nothing to lose), and the reset of a member the pool rejects (peer-repair.ts): no member
 * counts a rejected peer UP, so its restarts take nothing from anyone's count.
 *
 * Each member's count is read from its own `pool list` (asked over the management port), or from
 * this glusterd's view when it does not answer. A pool list shows neither `quorum_contrib` nor the
 * peers a glusterd has not seen since it started (they count for nothing until then); a peer listed
 * "Peer in Cluster" is taken to count (UP when connected). Where glusterd counts otherwise (a peer
 * not seen since its start, or one whose friend exchange never ended: glusterd.ts) the check can err
 * either way; the agents' half-joined repair is what brings the counts back in line.
 */
import type { GlusterCli, PoolPeer } from './gluster-cli.ts';
import { PEER_IN_CLUSTER } from './peer-repair.ts';

/** A fake's peer has no state: it is in the pool. */
const befriended = (p: PoolPeer) => p.state === undefined || p.state === PEER_IN_CLUSTER;
const up = (p: PoolPeer) => p.connected && befriended(p);

/** How many live members `members` need (glusterd's rule; `ratioPercent`: cluster.server-quorum-ratio). */
export function quorumNeed(members: number, ratioPercent?: number): number {
  return ratioPercent === undefined ? Math.floor((members * 50) / 100) + 1 : Math.ceil((members * ratioPercent) / 100);
}

/** One member's count from its pool list: members (itself + befriended peers) and live ones (itself + those connected). */
export function quorumCount(view: readonly PoolPeer[]): { members: number; live: number } {
  return { members: 1 + view.filter(befriended).length, live: 1 + view.filter(up).length };
}

/**
 * Why stopping this glusterd (`me`, its address) now would take server quorum from a member that has
 * it, or undefined when it would not. `mine`: this glusterd's pool list; `theirs`: each peer's own
 * (undefined or absent: it did not answer, and this glusterd's view stands in for it). Only peers
 * this one sees UP can count it UP; each of them that does, has quorum now and would not without it
 * is named.
 */
export function restartTakesQuorum(me: string, mine: readonly PoolPeer[], theirs: ReadonlyMap<string, readonly PoolPeer[] | undefined> = new Map(), ratioPercent?: number): string | undefined {
  const losers: string[] = [];
  for (const peer of mine.filter(up)) {
    // As this glusterd sees the pool, from that peer's side: itself out, this one in.
    const view = theirs.get(peer.address) ?? [...mine.filter((p) => p.address !== peer.address), { address: me, connected: true, state: PEER_IN_CLUSTER }];
    if (!view.some((p) => p.address === me && up(p))) continue;
    const { members, live } = quorumCount(view);
    const need = quorumNeed(members, ratioPercent);
    if (live >= need && live - 1 < need) losers.push(`${peer.address} would count ${live - 1} of ${members} live (needs ${need})`);
  }
  return losers.length ? `a glusterd restart here would stop the bricks of members left short of server quorum: ${losers.join('; ')}` : undefined;
}

/** `restartTakesQuorum` on the pool lists of this glusterd and of every peer it sees up. */
export async function quorumHoldsRestart(cli: GlusterCli, me: string): Promise<string | undefined> {
  const mine = await cli.peers();
  const theirs = new Map<string, PoolPeer[] | undefined>();
  for (const p of mine.filter(up)) theirs.set(p.address, await cli.peers(p.address).catch(() => undefined));
  return restartTakesQuorum(me, mine, theirs);
}

/** What restarts glusterd for the pool's sake asks first (storage-agent.ts: quorumHoldsRestart); absent in fakes: never held. */
export interface QuorumGate {
  /** Why a restart must wait now (it would take a member's server quorum), or undefined. */
  restartHeldBy?(): Promise<string | undefined>;
}
