/**
 * The StatefulSet policy (stateful_set_control.go's updateStatefulSet): members are sorted into the
 * ordinal range (replicas) and the rest (condemned); missing members are created at the right
 * revision; with OrderedReady nothing moves while a member is not Running, Ready and Available
 * (minReadySeconds) — creation in ascending, deletion in descending ordinal order — with Parallel
 * everything moves at once; then a RollingUpdate deletes the highest out-of-date member at or above
 * the partition (maxUnavailable at a time), and OnDelete waits for users to delete pods.
 * Side effects go through MemberControl, so the policy is tested without a server.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isPodAvailable, isPodReady } from '../controller-utils.ts';
import {
  endOrdinal, identityMatches, newMemberPod, ordinalOf, podInOrdinalRange, podRevision, replicasOf, startOrdinal, storageMatches,
} from './stateful-set-utils.ts';

/** What the policy may do to members and their claims. */
export interface MemberControl {
  /** Creates the member's missing PVCs, then the member. */
  createMember(set: KubeObject, pod: KubeObject): Promise<void>;
  /** Creates the member's missing PVCs (for a Pending member whose claims went away). */
  createMissingClaims(set: KubeObject, pod: KubeObject): Promise<void>;
  /** True when one of the member's PVCs is being deleted: the member must wait for it to go. */
  claimIsStale(set: KubeObject, pod: KubeObject): Promise<boolean>;
  deleteMember(set: KubeObject, pod: KubeObject): Promise<void>;
  /** Repairs an existing member's identity labels. */
  updateMember(set: KubeObject, pod: KubeObject): Promise<void>;
  /** Gives the member's PVCs the owners the retention policy asks for (no-op when they have them). */
  syncClaimRetention(set: KubeObject, pod: KubeObject): Promise<void>;
}

/** The status fields this computes (observedGeneration, revisions, counts). */
export interface MemberStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
}

/** A slot in the ordinal range: an existing pod, or one to create. */
interface Slot {
  pod: KubeObject;
  created: boolean;
}

const isFailedOrSucceeded = (p: KubeObject) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const isTerminating = (p: KubeObject) => !!p.metadata.deletionTimestamp;
const isPending = (p: KubeObject) => p.status?.phase === 'Pending';
const runningAndReady = (p: KubeObject) => p.status?.phase === 'Running' && isPodReady(p);
const runningAndAvailable = (p: KubeObject, minReady: number, now: number) => runningAndReady(p) && isPodAvailable(p, minReady, now);
/** isUnavailable: not yet created, terminating, or not Running+Available. */
const unavailable = (s: Slot, minReady: number, now: number) => !s.created || isTerminating(s.pod) || !runningAndAvailable(s.pod, minReady, now);

/** The counts of status (computeReplicaStatus) over the created pods. */
function countStatus(status: MemberStatus, pods: KubeObject[], minReady: number, now: number): void {
  Object.assign(status, { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 });
  for (const p of pods) {
    status.replicas++;
    if (runningAndReady(p)) {
      status.readyReplicas++;
      if (isPodAvailable(p, minReady, now)) status.availableReplicas++;
    }
    if (!isTerminating(p)) {
      if (podRevision(p) === status.currentRevision) status.currentReplicas++;
      if (podRevision(p) === status.updateRevision) status.updatedReplicas++;
    }
  }
}

/**
 * newVersionedStatefulSetPod: below the partition (or, without rollingUpdate settings, below the
 * current replicas) a new member gets the current revision; above it, the update revision.
 */
function versionedPod(currentSet: KubeObject, updateSet: KubeObject, current: string, update: string, ordinal: number): KubeObject {
  const strategy = currentSet.spec?.updateStrategy ?? {};
  const start = startOrdinal(currentSet);
  const rolling = (strategy.type ?? 'RollingUpdate') === 'RollingUpdate';
  const belowCurrent = rolling && !strategy.rollingUpdate && ordinal < start + Number(currentSet.status?.currentReplicas ?? 0);
  const belowPartition = !!strategy.rollingUpdate && ordinal < start + Number(strategy.rollingUpdate.partition ?? 0);
  return belowCurrent || belowPartition ? newMemberPod(currentSet, ordinal, current) : newMemberPod(updateSet, ordinal, update);
}

/** `maxUnavailable` of a rolling update: an int or a percentage of replicas (rounded down, at least 1). */
export function maxUnavailableOf(set: KubeObject): number {
  const v = set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable;
  if (v === undefined || v === null) return 1;
  if (typeof v === 'string' && v.endsWith('%')) return Math.max(1, Math.floor((replicasOf(set) * Number(v.slice(0, -1))) / 100));
  return Math.max(1, Number(v));
}

export interface SyncInput {
  set: KubeObject;
  /** The set with the current and update revisions' templates applied. */
  currentSet: KubeObject;
  updateSet: KubeObject;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
  /** The pods the set owns. */
  pods: KubeObject[];
  now: number;
}

/** Runs one sync; returns the status to record (also when a step failed: then it rejects after). */
export async function syncMembers(input: SyncInput, control: MemberControl): Promise<MemberStatus> {
  const { set, currentSet, updateSet, currentRevision, updateRevision, now } = input;
  const minReady = Number(set.spec?.minReadySeconds ?? 0);
  const status: MemberStatus = {
    observedGeneration: set.metadata.generation, replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0,
    currentRevision, updateRevision, collisionCount: input.collisionCount,
  };
  countStatus(status, input.pods, minReady, now);

  const start = startOrdinal(set);
  const slots: (Slot | undefined)[] = new Array(Math.max(0, replicasOf(set))).fill(undefined);
  const condemned: KubeObject[] = [];
  for (const pod of input.pods) {
    if (podInOrdinalRange(pod, set)) slots[ordinalOf(pod) - start] = { pod, created: true };
    else if (ordinalOf(pod) >= 0) condemned.push(pod);
  }
  for (let ord = start; ord <= endOrdinal(set); ord++) {
    if (!slots[ord - start]) slots[ord - start] = { pod: versionedPod(currentSet, updateSet, currentRevision, updateRevision, ord), created: false };
  }
  const replicas = slots as Slot[];
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
  const condemnedSlots = condemned.map((pod) => ({ pod, created: true }));
  const firstUnavailable = [...replicas, ...[...condemnedSlots].reverse()].find((s) => unavailable(s, minReady, now));
  const recount = () => countStatus(status, [...replicas, ...condemnedSlots].filter((s) => s.created).map((s) => s.pod), minReady, now);

  // A deleting set only reports.
  if (set.metadata.deletionTimestamp) return status;
  const monotonic = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';

  /** One member of the range (processReplica); true: stop this sync (monotonic wait or a change made). */
  const processReplica = async (s: Slot): Promise<boolean> => {
    if (s.created && isFailedOrSucceeded(s.pod)) {
      // A member that ended is deleted and comes back with the same name on a later sync.
      if (!isTerminating(s.pod)) await control.deleteMember(set, s.pod);
      return true;
    }
    if (!s.created) {
      if (await control.claimIsStale(set, s.pod)) return true;
      await control.createMember(updateSet, s.pod);
      s.created = true;
      if (monotonic) return true;
    }
    if (isPending(s.pod)) await control.createMissingClaims(set, s.pod);
    if (monotonic && (isTerminating(s.pod) || !runningAndAvailable(s.pod, minReady, now))) return true;
    await control.syncClaimRetention(updateSet, s.pod);
    if (!identityMatches(set, s.pod) || !storageMatches(set, s.pod)) await control.updateMember(updateSet, s.pod);
    return false;
  };

  /** One condemned member (processCondemned): deleted highest ordinal first, after its predecessors are healthy. */
  const processCondemned = async (pod: KubeObject): Promise<boolean> => {
    if (isTerminating(pod)) return monotonic;
    if (monotonic && !runningAndAvailable(pod, minReady, now) && pod !== firstUnavailable?.pod) return true;
    await control.deleteMember(set, pod);
    return true;
  };

  const runAll = async <T>(items: T[], fn: (x: T) => Promise<boolean>): Promise<boolean> => {
    if (monotonic) {
      for (const x of items) if (await fn(x)) return true;
      return false;
    }
    // Parallel: everything at once; the first failure is reported after all were tried.
    const results = await Promise.allSettled(items.map(fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return false;
  };

  try {
    if (await runAll(replicas, processReplica)) { recount(); return status; }
    if (await runAll(condemned, async (pod) => { await control.syncClaimRetention(updateSet, pod); return false; })) { recount(); return status; }
    if (await runAll(condemned, processCondemned)) { recount(); return status; }
  } catch (err) {
    recount();
    throw Object.assign(err as Error, { status });
  }
  recount();

  const strategy = set.spec?.updateStrategy ?? {};
  if (strategy.type === 'OnDelete') return status;
  // Rolling update: delete out-of-date members from the top while fewer than maxUnavailable are
  // unavailable (with the default 1: one member at a time, the next once it is back and available).
  const partition = Number(strategy.rollingUpdate?.partition ?? 0);
  const maxUnavailable = maxUnavailableOf(set);
  let down = replicas.filter((s) => unavailable(s, minReady, now)).length;
  if (down > maxUnavailable) return status;
  for (let i = replicas.length - 1; i >= partition && down < maxUnavailable; i--) {
    const s = replicas[i];
    if (podRevision(s.pod) !== updateRevision && !isTerminating(s.pod)) {
      await control.deleteMember(set, s.pod);
      status.currentReplicas--;
      down++;
    }
  }
  return status;
}

/** completeRollingUpdate: once every member runs the update revision and is ready, it becomes current. */
export function completeRollingUpdate(set: KubeObject, status: MemberStatus): void {
  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return;
  if (status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas && status.replicas === replicasOf(set)) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}
