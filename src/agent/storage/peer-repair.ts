/**
 * A member the trusted pool rejects ("Peer Rejected"), put back in it the way gluster's operators do
 * by hand (glusterdocs, "Resolving Peer Rejected": on the rejected node stop glusterd, clear its
 * store but for glusterd.info, start it, probe a good peer, restart it). Kubernetes has no
 * counterpart: its volume plugins leave the engine's own state to the engine.
 *
 * How a member gets there: at every handshake two glusterds compare each volume's definition by
 * version and checksum (glusterd_compare_friend_volume); the same version with another checksum is
 * a conflict neither side may settle, so each marks the other "Peer Rejected" — and stays so, over
 * restarts. A glusterd that was down (or restarted) while its peers committed a change of a volume
 * can come back with a definition of the same version but other content — seen on the lab after a
 * node restarted while one of its replicas was being rebuilt elsewhere. A rejected member takes no
 * part in any transaction: volume creation it leads fails ("… is not in 'Peer in Cluster' state"),
 * and the volumes' changes it would have to pre-validate too.
 *
 * After the reset a member can stay half-joined with it ("Sent and Received peer request"), as the
 * procedure warns ("restart glusterd another time or two"): the member that sees a peer so restarts
 * its own glusterd (`repairHalfJoined`), with that state marked in the pool first — glusterd's state
 * machine has no way out of it but the answer to its own friend request, which a peer that restarted
 * meanwhile never sends (glusterd-sm.c: a reconnect does nothing in it), so restarting the reset
 * node, or the stuck one alone, leaves it as it is.
 *
 * Which side repairs: the member whose connected peers all reject it, while one of them that
 * rejects it is itself in the pool with others (its own `pool list`, asked over the management
 * port) — the odd one out. The rest of the pool sees one rejected peer and does nothing. Two members
 * alone that reject each other, or a pool split in halves, are left as they are (reported): nothing
 * says which side holds the right definitions.
 */
import type { Logger } from '../../util/log.ts';
import type { GlusterCli, PoolPeer } from './gluster-cli.ts';

export const PEER_IN_CLUSTER = 'Peer in Cluster';
const isRejected = (p: PoolPeer) => p.connected && /rejected/i.test(p.state ?? '');
const inCluster = (p: PoolPeer) => p.connected && p.state === PEER_IN_CLUSTER;

/** How long this member must be the rejected one before its store is reset (a handshake under way settles first). */
export const REJECTED_GRACE_MS = 10_000;
/** At most one reset this often. */
export const REPAIR_EVERY_MS = 120_000;
/**
 * How long a connected peer may stay half-joined ("Sent and Received peer request", "Accepted peer
 * request"…) before this member, in the pool with others, restarts its glusterd for it — a probe
 * passes these states in well under a second; seen on the lab: one stuck for minutes after a reset
 * — and at most how often.
 */
export const HALF_JOINED_MS = 15_000;
export const HALF_JOINED_EVERY_MS = 120_000;
/**
 * A restart that moved the peer on to another half-joined state (on the lab: "Accepted peer request"
 * restarted, then both sides crossed friend requests into "Sent and Received peer request") may be
 * followed by the next one this soon instead of HALF_JOINED_EVERY_MS: waiting out the two minutes
 * kept the pool from being whole for 177 s after a reset, the replica moves it blocks with it.
 */
export const HALF_JOINED_NEXT_MS = 30_000;
/**
 * For this long after its reset a member repairs a half-joined peer although it sees no one in the
 * pool yet: it learns the other members from the one it rejoined through, and that one's friend
 * update never comes while the two are stuck half-way (seen on the lab: a minute lost so).
 */
export const AFTER_RESET_MS = 300_000;

/**
 * The member to rejoin the pool through when this one (`me`, its address) is the one the pool
 * rejects; undefined otherwise. `mine`: this glusterd's peers; `theirs`: the peers of each member
 * this one sees as rejected, as that member sees them (undefined: it did not answer).
 */
export function rejoinThrough(me: string, mine: readonly PoolPeer[], theirs: ReadonlyMap<string, readonly PoolPeer[] | undefined>): string | undefined {
  if (mine.some(inCluster)) return undefined;
  for (const peer of mine.filter(isRejected)) {
    const view = theirs.get(peer.address);
    if (!view) continue;
    const rejectsMe = view.some((q) => q.address === me && isRejected(q));
    const pooled = view.some((q) => q.address !== me && inCluster(q));
    if (rejectsMe && pooled) return peer.address;
  }
  return undefined;
}

/** How long after a reset this node probes no one (storage-agent.ts): the pool comes back through the member it probed. */
export const PROBES_PAUSED_MS = 60_000;

/** Whether this node's pool probes wait (a reset within PROBES_PAUSED_MS). */
export function probesPaused(state: RepairState, now = Date.now()): boolean {
  return state.lastRepair !== undefined && now - state.lastRepair < PROBES_PAUSED_MS;
}

/** What is kept across passes. */
export interface RepairState {
  /** Since when this member has been the rejected one (ms). */
  rejectedSince?: number;
  lastRepair?: number;
  /** Since when a peer has been half-joined, and the last restart for that. */
  halfJoinedSince?: number;
  lastHalfJoinedRepair?: number;
  /** The half-joined peers (`address: state`) the last restart was for. */
  lastHalfJoinedView?: string;
  /** The last pool problem reported (reported again only when it changes). */
  lastReport?: string;
}

export interface RepairOutcome {
  /** Members not in the pool as this glusterd sees them (`address: state`). */
  problems: string[];
  /** The member this one rejoined through, when it reset its store this pass. */
  rejoinedThrough?: string;
}

/**
 * One pass: this glusterd's view of the pool; when it is the member the pool rejects for
 * REJECTED_GRACE_MS, its store is reset (identity kept), a good member probed and — once the probe's
 * handshake is over on both sides (HANDSHAKE_WAIT) — glusterd restarted, whose handshake then imports
 * the pool's volumes and peers. At most once per REPAIR_EVERY_MS. A pool problem is logged once per
 * change.
 */
export interface RepairDaemon {
  resetStore(why: string): Promise<void>;
  restart(why: string): Promise<void>;
  /** Restarts glusterd with the peers at `addresses` that are stored "Sent and Received peer request" marked in the pool. */
  rejoinHalfJoined(addresses: readonly string[], why: string): Promise<void>;
}

/**
 * How long, after the probe of a reset member, its restart waits for the probe's handshake to end
 * (polled every `pollMs`). The probe returns once the member accepted this glusterd's friend request;
 * the member then probes back ("Peer is connected and Accepted") and sends its own friend request
 * ("Sent and Received peer request"), and a restart of this glusterd in between loses the answer it
 * waits on: the member is left in that state for good (glusterd-sm.c), never counting this glusterd
 * for server quorum (glusterd.ts). Seen on the lab and in CI right after a reset.
 */
export const HANDSHAKE_WAIT = { ms: 30_000, pollMs: 1000 };

/** Whether `via` and this glusterd (`me`) list each other connected and "Peer in Cluster" within `wait.ms`. */
export async function handshakeDone(cli: GlusterCli, me: string, via: string, wait = HANDSHAKE_WAIT): Promise<boolean> {
  const deadline = Date.now() + wait.ms;
  for (;;) {
    const mine = await cli.peers().catch(() => [] as PoolPeer[]);
    const theirs = await cli.peers(via).catch(() => [] as PoolPeer[]);
    if (mine.some((p) => p.address === via && inCluster(p)) && theirs.some((p) => p.address === me && inCluster(p))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, wait.pollMs));
  }
}

export async function repairRejection(cli: GlusterCli, daemon: RepairDaemon, log: Logger, me: string, state: RepairState, now = Date.now(), wait = HANDSHAKE_WAIT): Promise<RepairOutcome> {
  const mine = await cli.peers();
  const problems = mine.filter((p) => p.connected && p.state !== undefined && p.state !== PEER_IN_CLUSTER).map((p) => `${p.address}: ${p.state}`);
  const report = problems.join(', ');
  if (report !== state.lastReport) {
    if (report) log.warn('storage pool members not in the pool as this glusterd sees them', { problems: report });
    else if (state.lastReport) log.info('storage pool whole again as this glusterd sees it');
    state.lastReport = report;
  }
  const afterReset = state.lastRepair !== undefined && now - state.lastRepair < AFTER_RESET_MS;
  if (await repairHalfJoined(mine, daemon, state, now, afterReset)) return { problems };
  const theirs = new Map<string, PoolPeer[] | undefined>();
  if (!mine.some(inCluster)) {
    for (const p of mine.filter(isRejected)) theirs.set(p.address, await cli.peers(p.address).catch(() => undefined));
  }
  const via = rejoinThrough(me, mine, theirs);
  if (!via) {
    state.rejectedSince = undefined;
    return { problems };
  }
  state.rejectedSince ??= now;
  if (now - state.rejectedSince < REJECTED_GRACE_MS) return { problems };
  if (state.lastRepair !== undefined && now - state.lastRepair < REPAIR_EVERY_MS) return { problems };
  state.lastRepair = now;
  state.rejectedSince = undefined;
  state.halfJoinedSince = undefined;
  log.warn('the storage pool rejects this glusterd (its volume definitions conflict with the pool\'s): resetting its store and rejoining', { via, problems: report });
  await daemon.resetStore(`rejected by the pool; rejoining through ${via}`);
  // The fresh glusterd may take a moment to answer its CLI socket.
  let probeError: unknown;
  for (let i = 0; i < 10; i++) {
    try { await cli.probe(via); probeError = undefined; break; } catch (err) { probeError = err; await new Promise((r) => setTimeout(r, 1000)); }
  }
  if (probeError) log.warn('probing a pool member after the reset failed (the next passes probe again)', { via, error: (probeError as Error).message });
  else if (!(await handshakeDone(cli, me, via, wait))) log.warn('the member probed after the reset does not list this glusterd "Peer in Cluster" yet: restarting it all the same', { via, waitedMs: wait.ms });
  await daemon.restart(`rejoined the pool through ${via}: the handshake imports its volumes and peers`);
  return { problems, rejoinedThrough: via };
}

/**
 * A member in the pool with others (or reset within AFTER_RESET_MS) that has seen a connected peer
 * half-joined for HALF_JOINED_MS restarts its glusterd for it (`rejoinHalfJoined`), at most once per
 * HALF_JOINED_EVERY_MS for the same view (HALF_JOINED_NEXT_MS when the last restart moved it on to
 * another); true when it did. A member outside the pool otherwise leaves it be: its own
 * rejoin (above) is under way.
 */
export async function repairHalfJoined(mine: readonly PoolPeer[], daemon: Pick<RepairDaemon, 'rejoinHalfJoined'>, state: RepairState, now: number, afterReset = false): Promise<boolean> {
  // Disconnected ones count for the wait (the other side's own restart drops the connection for a
  // moment, and the state stays — seen on the lab); only connected ones are acted on.
  const stuck = mine.filter((p) => p.state !== undefined && p.state !== PEER_IN_CLUSTER && !/rejected/i.test(p.state));
  if (!stuck.length || !(afterReset || mine.some(inCluster))) {
    state.halfJoinedSince = undefined;
    return false;
  }
  const half = stuck.filter((p) => p.connected);
  if (now - (state.halfJoinedSince ??= now) < HALF_JOINED_MS || !half.length) return false;
  const view = half.map((p) => `${p.address}: ${p.state}`).sort().join(', ');
  const since = state.lastHalfJoinedRepair === undefined ? Infinity : now - state.lastHalfJoinedRepair;
  if (since < (view === state.lastHalfJoinedView ? HALF_JOINED_EVERY_MS : HALF_JOINED_NEXT_MS)) return false;
  state.lastHalfJoinedRepair = now;
  state.lastHalfJoinedView = view;
  state.halfJoinedSince = undefined;
  await daemon.rejoinHalfJoined(half.map((p) => p.address), `${half.map((p) => `${p.address} is "${p.state}"`).join(', ')} for ${HALF_JOINED_MS / 1000} s`);
  return true;
}
