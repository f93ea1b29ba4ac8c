/**
 * The line `berth sim` prints every `--report-interval` seconds: whether the hollow nodes keep their
 * Leases on time (how late renewals complete against their schedule, the longest gap between two
 * renewals of one node: past the server's grace a node goes NotReady and its pods are evicted), how
 * many nodes are not Ready, and how far the pods' status writes are behind (pods waiting for their
 * Running status, the oldest's wait, bound → Running). bench scale reads it (the field names are
 * stable: `lease late`, `longest gap`, `pods waiting`, `not Ready`).
 */
import type { SimStats } from './simulator.ts';

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : '-');
const s1 = (x: number) => (Number.isFinite(x) ? (x / 1000).toFixed(1) : '-');

/** The report since the last one (its windows are emptied); `periodS` is the time since then. */
export function simReport(stats: SimStats, periodS: number): string {
  const w = stats.renewalLatenessWindow, all = stats.renewalLateness;
  const p = stats.pods, pw = p.toRunningWindow;
  const line = `sim report: ${w.count} renewals in ${periodS.toFixed(0)} s, lease late p50/p99/max ${ms(w.percentile(50))}/${ms(w.percentile(99))}/${ms(w.max)} ms `
    + `(since start p99 ${ms(all.percentile(99))} ms, max ${ms(all.max)} ms; longest gap ${s1(stats.longestRenewalGapMs)} s); `
    + `node writes ${stats.nodeWrites.running} in flight, ${stats.nodeWrites.queued} queued; ${stats.notReady} not Ready; `
    + `${p.statusWrites} status writes, ${p.deletes} deletes; pods waiting ${p.waiting} (oldest ${s1(p.oldestWaitingMs)} s), `
    + `bound→Running p50/p99 ${s1(pw.percentile(50))}/${s1(pw.percentile(99))} s; errors ${stats.errors + p.errors}`;
  w.reset();
  pw.reset();
  return line;
}
