/**
 * Leader election on a coordination.k8s.io Lease (`kube-system/<name>`), as client-go's
 * leaderelection: try to acquire or renew every retry period; a lease held by someone else may be
 * taken once it has not changed for leaseDurationSeconds *as observed locally* (no clock comparison
 * across machines); a leader that cannot renew within the renew deadline stops leading; `stop()`
 * releases the lease (empty holder) so another candidate takes over at once.
 */
import { hostname } from 'node:os';
import type { KubeObject } from '../apis/object.ts';
import type { Logger } from '../util/log.ts';
import { R, type Client } from './client.ts';
import { isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import { rfc3339Micro } from '../apis/time.ts';

/** Options for {@link LeaderElector}. */
export interface LeaderElectorOptions {
  /** The Lease's name, e.g. `berth-controller-manager`. */
  name: string;
  /** Default `kube-system`. */
  namespace?: string;
  /** Unique per candidate; default `<hostname>_<random>`. */
  identity?: string;
  /** Default 15. */
  leaseDurationSeconds?: number;
  /** How often the leader renews; default 2000. */
  renewIntervalMs?: number;
  /** How often a candidate retries; default 2000. */
  retryPeriodMs?: number;
  /** A leader failing to renew this long steps down; default 2/3 of the lease duration. */
  renewDeadlineMs?: number;
  onStartedLeading?: () => void | Promise<void>;
  onStoppedLeading?: () => void | Promise<void>;
  log?: Logger;
}

/** Campaigns for and holds one Lease; see the file comment. */
export class LeaderElector {
  readonly identity: string;
  private readonly namespace: string;
  private readonly durationS: number;
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private loop?: Promise<void>;
  /** The lease record last seen and when (local clock) it last changed. */
  private observed?: { holder: string; renewTime: string; transitions: number };
  private observedAt = 0;
  private lastRenew = 0;

  constructor(private readonly client: Client, private readonly opts: LeaderElectorOptions) {
    this.identity = opts.identity ?? `${hostname()}_${Math.random().toString(36).slice(2, 10)}`;
    this.namespace = opts.namespace ?? 'kube-system';
    this.durationS = opts.leaseDurationSeconds ?? 15;
  }

  /** True while this candidate holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** Starts campaigning. */
  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.tick();
  }

  /** Stops campaigning; a leader releases the lease and gets onStoppedLeading. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
    if (this.leading) {
      await this.release().catch((err) => this.opts.log?.warn('lease release failed', { lease: this.opts.name, error: (err as Error).message }));
      await this.setLeading(false);
    }
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.log?.debug('lease acquire/renew failed', { lease: this.opts.name, error: (err as Error).message });
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenew = Date.now();
      if (!this.leading) await this.setLeading(true);
    } else if (this.leading) {
      // Lost to another holder, or could not renew within the deadline.
      const deadline = this.opts.renewDeadlineMs ?? (this.durationS * 1000 * 2) / 3;
      if (this.observed?.holder !== this.identity || Date.now() - this.lastRenew > deadline) await this.setLeading(false);
    }
    if (this.stopped) return;
    const delay = this.leading ? this.opts.renewIntervalMs ?? 2000 : this.opts.retryPeriodMs ?? 2000;
    this.timer = setTimeout(() => { this.loop = this.tick(); }, delay);
  }

  private async setLeading(v: boolean): Promise<void> {
    if (this.leading === v) return;
    this.leading = v;
    this.opts.log?.info(v ? 'became leader' : 'stopped leading', { lease: this.opts.name, identity: this.identity });
    try {
      await (v ? this.opts.onStartedLeading?.() : this.opts.onStoppedLeading?.());
    } catch (err) {
      this.opts.log?.error('leader callback failed', { lease: this.opts.name, error: (err as Error).message });
    }
  }

  /** One attempt; true when this candidate holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = rfc3339Micro();
    let lease: KubeObject;
    try {
      lease = await this.client.get(R.leases, this.namespace, this.opts.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.client.create(R.leases, this.namespace, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.name, namespace: this.namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: this.durationS, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        });
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
      this.observe(this.identity, now, 0);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder: string = spec.holderIdentity ?? '';
    const transitions: number = spec.leaseTransitions ?? 0;
    this.observe(holder, spec.renewTime ?? '', transitions);
    const duration = (spec.leaseDurationSeconds ?? this.durationS) * 1000;
    if (holder && holder !== this.identity && Date.now() - this.observedAt < duration) return false;
    const taking = holder !== this.identity;
    lease.spec = {
      ...spec, holderIdentity: this.identity, leaseDurationSeconds: this.durationS, renewTime: now,
      acquireTime: taking ? now : spec.acquireTime ?? now,
      leaseTransitions: taking && holder ? transitions + 1 : transitions,
    };
    try {
      await this.client.update(R.leases, this.namespace, lease);
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.observe(this.identity, now, lease.spec.leaseTransitions);
    return true;
  }

  private observe(holder: string, renewTime: string, transitions: number): void {
    const o = this.observed;
    if (!o || o.holder !== holder || o.renewTime !== renewTime || o.transitions !== transitions) {
      this.observed = { holder, renewTime, transitions };
      this.observedAt = Date.now();
    }
  }

  /** Gives the lease up: empty holder, 1 s duration, so the next candidate acquires at once. */
  private async release(): Promise<void> {
    const lease = await this.client.get(R.leases, this.namespace, this.opts.name);
    if (lease.spec?.holderIdentity !== this.identity) return;
    lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: rfc3339Micro() };
    await this.client.update(R.leases, this.namespace, lease);
  }
}
