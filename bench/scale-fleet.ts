/**
 * bench scale's view of the hollow fleet from the server, sampled while the fill runs: how stale the
 * nodes' Leases are (now − spec.renewTime of each: on-time renewals every 10 s give ages spread over
 * 0–10 s; an age past the server's grace is a node the lifecycle controller is about to mark NotReady),
 * how many Nodes are not Ready, and how far the simulator's pod status writes are behind the binding
 * (pods the scheduler bound, from its /metrics counter, minus the Deployments' available replicas).
 * It reads only the API, so it judges any simulator, and it costs the server one list of 5,000 Leases
 * and one of 5,000 Nodes a sample.
 */
import type http from 'node:http';
import { request } from './lib/load.ts';
import { f, pct, sortNum } from './lib/stats.ts';

export interface FleetSample {
  /** Seconds since the fill started. */
  atS: number;
  /** Lease ages, seconds: p50, p99, max. */
  leaseAgeP50: number;
  leaseAgeP99: number;
  leaseAgeMax: number;
  /** Leases older than the grace. */
  leasesPastGrace: number;
  notReady: number;
  /** Pods bound by the scheduler so far (its counter; NaN without it). */
  bound: number;
  available: number;
}

const isReady = (n: any) => (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/** One sample of the fleet; `available` is the caller's latest count. */
export async function sampleFleet(agent: http.Agent, url: string, graceS: number, atS: number, available: number): Promise<FleetSample> {
  const leases = (JSON.parse((await request(agent, 'GET', `${url}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`, undefined, {}, 120_000)).body.toString()) as { items: any[] }).items;
  const now = Date.now();
  const ages = sortNum(leases.map((l) => (now - Date.parse(l.spec?.renewTime ?? '')) / 1000).filter((x) => Number.isFinite(x)));
  const nodes = (JSON.parse((await request(agent, 'GET', `${url}/api/v1/nodes`, undefined, {}, 120_000)).body.toString()) as { items: any[] }).items;
  const metrics = (await request(agent, 'GET', `${url}/metrics`, undefined, {}, 60_000)).body.toString();
  const bound = Number(/^scheduler_schedule_attempts_total\{result="scheduled"[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
  return {
    atS, leaseAgeP50: pct(ages, 50), leaseAgeP99: pct(ages, 99), leaseAgeMax: ages[ages.length - 1] ?? NaN,
    leasesPastGrace: ages.filter((a) => a > graceS).length, notReady: nodes.filter((n) => !isReady(n)).length, bound, available,
  };
}

/** One progress line. */
export function formatSample(s: FleetSample): string {
  return `lease age p50 / p99 / max ${f(s.leaseAgeP50)} / ${f(s.leaseAgeP99)} / ${f(s.leaseAgeMax)} s (${s.leasesPastGrace} past grace), `
    + `${s.notReady} nodes not Ready, ${Number.isFinite(s.bound) ? s.bound : '?'} bound / ${s.available} available`;
}

/** The table's summary of all samples: the worst of each. */
export function summarizeFleet(samples: FleetSample[]): { leases: string; notReady: string; behind: string } {
  if (samples.length === 0) return { leases: 'no sample', notReady: 'no sample', behind: 'no sample' };
  const worst = (fn: (s: FleetSample) => number) => Math.max(...samples.map(fn).filter((x) => Number.isFinite(x)));
  const atWorst = (fn: (s: FleetSample) => number) => samples.reduce((a, s) => (fn(s) > fn(a) ? s : a));
  const behind = (s: FleetSample) => s.bound - s.available;
  const b = atWorst(behind);
  return {
    leases: `p99 ≤ ${f(worst((s) => s.leaseAgeP99))} s, max ${f(worst((s) => s.leaseAgeMax))} s, past grace ≤ ${worst((s) => s.leasesPastGrace)} (${samples.length} samples)`,
    notReady: `≤ ${worst((s) => s.notReady)} (samples with any: ${samples.filter((s) => s.notReady > 0).length} of ${samples.length})`,
    behind: Number.isFinite(behind(b)) ? `≤ ${behind(b)} (at ${f(b.atS, 0)} s: ${b.bound} bound, ${b.available} available)` : 'no scheduler counter',
  };
}
