/**
 * Reservations of unique values (ClusterIPs, NodePorts) as keys in the store, one key per value —
 * the idea of Kubernetes' IPAddress objects: creating the key IS the lock, so two API servers on one
 * etcd can never hand out the same value, and no in-memory bitmap has to agree with anyone.
 *
 *   /registry/berth.dev/allocations/<pool>/<value>  →  {"owner":{namespace,name,uid},"at":ISO}
 *
 * A value is reserved before the owning object is written and released after it is removed, so a
 * crash in between can only leak a reservation (never double-allocate); the repair loop
 * (allocation-repair.ts) returns leaked ones to the pool.
 */
import type { Backend, KeyValue } from '../../storage/backend.ts';
import { KeyExistsError } from '../../storage/backend.ts';

export interface AllocationOwner {
  namespace?: string;
  name: string;
  uid: string;
}

export interface Allocation {
  pool: string;
  value: string;
  owner: AllocationOwner;
  /** When the reservation was made (the repair loop leaves young ones alone). */
  at: string;
  revision: number;
}

export const ALLOCATION_PREFIX = '/registry/berth.dev/allocations/';

export function allocationKey(pool: string, value: string): string {
  return `${ALLOCATION_PREFIX}${pool}/${value}`;
}

function decode(pool: string, kv: KeyValue): Allocation {
  const body = JSON.parse(kv.value) as { owner: AllocationOwner; at: string };
  return { pool, value: kv.key.slice(allocationKey(pool, '').length), owner: body.owner, at: body.at, revision: kv.modRevision };
}

export class AllocationStore {
  constructor(private readonly backend: Backend) {}

  /** Reserves `value` for `owner`: true when reserved now or already held by the same owner. */
  async reserve(pool: string, value: string, owner: AllocationOwner): Promise<boolean> {
    const key = allocationKey(pool, value);
    try {
      await this.backend.create(key, JSON.stringify({ owner, at: new Date().toISOString() }));
      return true;
    } catch (err) {
      if (!(err instanceof KeyExistsError)) throw err;
      const held = await this.get(pool, value);
      return held?.owner.uid === owner.uid;
    }
  }

  async get(pool: string, value: string): Promise<Allocation | undefined> {
    const kv = await this.backend.get(allocationKey(pool, value));
    return kv ? decode(pool, kv) : undefined;
  }

  /** Releases `value` if `ownerUid` holds it (another owner's reservation is left alone). */
  async release(pool: string, value: string, ownerUid: string): Promise<void> {
    const held = await this.get(pool, value);
    if (!held || held.owner.uid !== ownerUid) return;
    await this.backend.delete(allocationKey(pool, value), held.revision).catch(() => { /* changed meanwhile: not ours to drop */ });
  }

  /** Drops a reservation exactly as read (the repair loop). */
  async drop(a: Allocation): Promise<void> {
    await this.backend.delete(allocationKey(a.pool, a.value), a.revision).catch(() => {});
  }

  /** Every reservation in `pool`. */
  async list(pool: string): Promise<Allocation[]> {
    const out: Allocation[] = [];
    let after: string | undefined;
    for (;;) {
      const res = await this.backend.list(allocationKey(pool, ''), { after, limit: 1000 });
      for (const kv of res.items) out.push(decode(pool, kv));
      if (!res.more || res.items.length === 0) return out;
      after = res.items[res.items.length - 1]!.key;
    }
  }
}
