/**
 * Writes the Prometheus text exposition format (version 0.0.4), as client_golang's expfmt does, for
 * the families the sampler answers from its snapshot (/metrics/resource, /metrics/cadvisor): built
 * per scrape from plain values, no registry state to keep in step with pods that come and go.
 */

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PromSample {
  labels?: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch: when the value was read (kubelet's /metrics/resource sets it). */
  timestampMs?: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Collects families and renders them in the order added. */
export class PromText {
  private readonly parts: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string, samples: PromSample[]): this {
    this.parts.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`);
    for (const s of samples) {
      const labels = s.labels ? Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') : '';
      this.parts.push(`${name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}${s.timestampMs !== undefined ? ` ${Math.round(s.timestampMs)}` : ''}\n`);
    }
    return this;
  }

  toString(): string {
    return this.parts.join('');
  }
}
