/**
 * Test-only: a strict parser of the Prometheus text exposition format 0.0.4 (what Prometheus' own
 * textparse accepts): HELP/TYPE comments, metric names and label names by their grammar, quoted and
 * escaped label values, float values (NaN, ±Inf), optional integer timestamps, a TYPE before its
 * samples, no family twice, histogram/summary sample suffixes. Throws on the first bad line.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function familyOf(sample: string, families: Map<string, PromFamily>): PromFamily | undefined {
  if (families.has(sample)) return families.get(sample);
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
    if (sample.endsWith(suffix)) {
      const f = families.get(sample.slice(0, -suffix.length));
      if (f && (f.type === 'histogram' || f.type === 'summary' || (suffix === '_total' && f.type === 'counter'))) return f;
    }
  }
  return undefined;
}

export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const closed = new Set<string>();
  let current: PromFamily | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the exposition must end with a newline');
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      let f = families.get(name);
      if (f && closed.has(name)) throw new Error(`line ${n}: family ${name} appears twice`);
      if (!f) { f = { name, type: 'untyped', samples: [] }; families.set(name, f); }
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`line ${n}: bad type ${rest}`);
        if (f.samples.length) throw new Error(`line ${n}: TYPE after samples of ${name}`);
        f.type = rest as PromFamily['type'];
      } else f.help = rest;
      return;
    }
    const nm = METRIC_NAME.exec(raw);
    if (!nm) throw new Error(`line ${n}: bad metric name: ${raw}`);
    const name = nm[0];
    let i = name.length;
    const labels: Record<string, string> = {};
    if (raw[i] === '{') {
      i++;
      while (raw[i] !== '}') {
        const ln = LABEL_NAME.exec(raw.slice(i));
        if (!ln) throw new Error(`line ${n}: bad label name at ${i}: ${raw}`);
        i += ln[0].length;
        if (raw[i] !== '=' || raw[i + 1] !== '"') throw new Error(`line ${n}: expected =" at ${i}: ${raw}`);
        i += 2;
        let v = '';
        for (;;) {
          const c = raw[i];
          if (c === undefined) throw new Error(`line ${n}: unterminated label value`);
          if (c === '"') { i++; break; }
          if (c === '\\') {
            const e = raw[i + 1];
            if (e === 'n') v += '\n'; else if (e === '\\') v += '\\'; else if (e === '"') v += '"'; else throw new Error(`line ${n}: bad escape \\${e}`);
            i += 2;
          } else { v += c; i++; }
        }
        if (ln[0] in labels) throw new Error(`line ${n}: label ${ln[0]} twice`);
        labels[ln[0]] = v;
        if (raw[i] === ',') i++;
        else if (raw[i] !== '}') throw new Error(`line ${n}: expected , or } at ${i}: ${raw}`);
      }
      i++;
    }
    if (raw[i] !== ' ') throw new Error(`line ${n}: expected a space before the value: ${raw}`);
    const parts = raw.slice(i + 1).split(' ');
    if (parts.length > 2) throw new Error(`line ${n}: trailing fields: ${raw}`);
    const value = parseValue(parts[0], n);
    let timestamp: number | undefined;
    if (parts[1] !== undefined) {
      if (!/^-?\d+$/.test(parts[1])) throw new Error(`line ${n}: bad timestamp ${parts[1]}`);
      timestamp = Number(parts[1]);
    }
    let f = familyOf(name, families);
    if (!f) {
      if (families.has(name)) throw new Error(`line ${n}: family ${name} appears twice`);
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    if (current && current !== f) { closed.add(current.name); if (closed.has(f.name)) throw new Error(`line ${n}: samples of ${f.name} are not together`); }
    current = f;
    if (f.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) throw new Error(`line ${n}: histogram bucket without le`);
    f.samples.push({ name, labels, value, ...(timestamp !== undefined ? { timestamp } : {}) });
  });
  return families;
}

/** The family, or an assertion-style error naming what is there. */
export function family(families: Map<string, PromFamily>, name: string): PromFamily {
  const f = families.get(name);
  if (!f) throw new Error(`no family ${name} among ${[...families.keys()].slice(0, 60).join(', ')}…`);
  return f;
}
