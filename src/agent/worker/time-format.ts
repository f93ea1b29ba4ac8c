/** Timestamps and durations as the kubelet prints them in statuses and messages. */

export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `10s`, `5m0s` — the back-off delay in CrashLoopBackOff messages. */
export function formatDelay(secs: number): string {
  if (secs < 60) return `${secs}s`;
  const m = Math.floor(secs / 60);
  const s = secs % 60;
  return s ? `${m}m${s}s` : `${m}m0s`;
}
