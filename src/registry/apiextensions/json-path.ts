/**
 * The JSONPath of additionalPrinterColumns and of the scale subresource's paths — the subset
 * Kubernetes' CRDs use: `.spec.replicas`, `.metadata.labels.app`, `.items[0].x`, `['a.b']`,
 * `[*]`, and filters `[?(@.type=="Ready")]`. Upstream: k8s.io/client-go/util/jsonpath as the CRD
 * table convertor (tableconvertor.New) and scale (scale.go) use it.
 */
import { isObject } from './schema.ts';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; i: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: string[]; op: '==' | '!=' | 'exists'; value?: unknown };

/** Parses `.a.b[0]['c.d'][?(@.x=="y")].e` (braces `{…}` around it are allowed). Throws on what it cannot read. */
export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      const m = /^\.([A-Za-z0-9_\-/]*)/.exec(s.slice(i));
      if (!m || !m[1]) throw new Error(`unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'`);
      steps.push({ kind: 'field', name: m[1] });
      i += m[0].length;
    } else if (s[i] === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new Error('unterminated array');
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', i: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else {
        const f = /^\?\(@((?:\.[A-Za-z0-9_\-/]+)+)\s*(?:(==|!=)\s*(.+?))?\s*\)$/.exec(inner);
        if (!f) throw new Error(`unsupported array expression ${inner}`);
        const path = f[1].slice(1).split('.');
        let value: unknown;
        if (f[2]) {
          const raw = f[3].trim();
          value = /^'.*'$/.test(raw) ? raw.slice(1, -1) : JSON.parse(raw);
        }
        steps.push({ kind: 'filter', path, op: (f[2] as '==' | '!=') ?? 'exists', value });
      }
    } else throw new Error(`unrecognized character in action: ${JSON.stringify(s[i])}`);
  }
  return steps;
}

/** Every value the path selects in `obj`. */
export function evalJsonPath(steps: Step[], obj: unknown): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (step.kind === 'field') { if (isObject(v) && step.name in v) next.push(v[step.name]); }
      else if (step.kind === 'index') { if (Array.isArray(v)) { const x = v[step.i < 0 ? v.length + step.i : step.i]; if (x !== undefined) next.push(x); } }
      else if (step.kind === 'all') { if (Array.isArray(v)) next.push(...v); else if (isObject(v)) next.push(...Object.values(v)); }
      else if (Array.isArray(v)) {
        for (const item of v) {
          let x: unknown = item;
          for (const p of step.path) x = isObject(x) ? x[p] : undefined;
          if (step.op === 'exists' ? x !== undefined : step.op === '==' ? x === step.value : x !== step.value) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** The first value a path selects, or undefined. */
export function getPath(obj: unknown, expr: string): unknown {
  return evalJsonPath(parseJsonPath(expr), obj)[0];
}

/**
 * Sets a plain `.a.b.c` path, creating objects on the way (the scale subresource's specReplicasPath).
 */
export function setPath(obj: Record<string, unknown>, expr: string, value: unknown): void {
  const steps = parseJsonPath(expr);
  let cur: Record<string, unknown> = obj;
  steps.forEach((st, i) => {
    if (st.kind !== 'field') throw new Error(`${expr}: only field paths can be set`);
    if (i === steps.length - 1) { cur[st.name] = value; return; }
    if (!isObject(cur[st.name])) cur[st.name] = {};
    cur = cur[st.name] as Record<string, unknown>;
  });
}
