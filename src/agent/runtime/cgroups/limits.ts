/**
 * Pure conversions from Kubernetes resource quantities to cgroup values (v1 and v2), kept apart from
 * the file-system code so they can be tested without root.
 */
import type { ResourceLimits } from '../driver.ts';

/** CFS period used for every container (the kubelet's default). */
export const CPU_PERIOD_US = 100_000;

/** CFS quota in µs for a CPU limit in millicores (millis × 100 for a 100 ms period). */
export function cpuQuotaUs(limitMillis: number): number {
  // The kernel rejects quotas under 1 ms; Kubernetes rounds up the same way.
  return Math.max(1000, Math.round((limitMillis * CPU_PERIOD_US) / 1000));
}

/** v1 cpu.shares for a CPU request (1 CPU = 1024 shares, minimum 2 as in the kubelet). */
export function cpuShares(requestMillis: number | undefined): number {
  if (requestMillis === undefined || requestMillis <= 0) return 2;
  return Math.min(262144, Math.max(2, Math.floor((requestMillis * 1024) / 1000)));
}

/** v2 cpu.weight from shares, with the formula runc and the kubelet use (2..262144 → 1..10000). */
export function cpuWeight(requestMillis: number | undefined): number {
  const shares = cpuShares(requestMillis);
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** The file writes a set of limits turns into, per cgroup version (file name → value, in order). */
export function limitFiles(version: 'v1' | 'v2', r: ResourceLimits): { controller: string; file: string; value: string }[] {
  const out: { controller: string; file: string; value: string }[] = [];
  if (version === 'v1') {
    out.push({ controller: 'cpu', file: 'cpu.shares', value: String(cpuShares(r.cpuRequestMillis)) });
    if (r.cpuLimitMillis !== undefined) {
      out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) });
      out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(cpuQuotaUs(r.cpuLimitMillis)) });
    }
    if (r.memoryLimitBytes !== undefined) {
      out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(r.memoryLimitBytes) });
      // memsw ≥ limit must hold, so it is written after the limit; equal means "no swap".
      out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes?', value: String(r.memoryLimitBytes) });
    }
    if (r.pidsLimit !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(r.pidsLimit) });
  } else {
    out.push({ controller: 'cpu', file: 'cpu.weight', value: String(cpuWeight(r.cpuRequestMillis)) });
    if (r.cpuLimitMillis !== undefined) {
      out.push({ controller: 'cpu', file: 'cpu.max', value: `${cpuQuotaUs(r.cpuLimitMillis)} ${CPU_PERIOD_US}` });
    }
    if (r.memoryLimitBytes !== undefined) {
      out.push({ controller: 'memory', file: 'memory.max', value: String(r.memoryLimitBytes) });
      out.push({ controller: 'memory', file: 'memory.swap.max?', value: '0' });
    }
    // Kill the whole container on OOM, as the kubelet does on v2.
    out.push({ controller: 'memory', file: 'memory.oom.group?', value: '1' });
    if (r.pidsLimit !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(r.pidsLimit) });
  }
  return out;
}
