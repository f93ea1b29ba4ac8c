/**
 * Logs of a pod's containers or of every pod of a workload, merged into one time-ordered view with
 * search — each stream followed (`?follow=true&timestamps=true`, as `kubectl logs -f
 * --timestamps`) and each line prefixed with its pod and container (stern's view, in the browser).
 */
import { h } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, apiJson, resourceUrl, type ResourceType } from '../api.ts';
import type { Obj } from '../object-store.ts';

interface Line { t: string; src: string; text: string }
const MAX_LINES = 5000;

/** The pods a workload's selector picks (or the pod itself). */
async function podsOf(t: ResourceType, obj: Obj): Promise<Obj[]> {
  if (t.resource === 'pods') return [obj];
  const sel = obj.spec?.selector?.matchLabels as Record<string, string> | undefined;
  if (!sel) return [];
  const l = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
  const r = await apiJson(`${resourceUrl({ group: '', version: 'v1', resource: 'pods' }, obj.metadata.namespace)}?labelSelector=${encodeURIComponent(l)}`);
  return r.items;
}

/** Splits `2026-12-06T10:00:00.123456789Z text` into its time and text. */
export function splitTimestamp(line: string): { t: string; text: string } {
  const sp = line.indexOf(' ');
  return sp > 0 && /^\d{4}-\d\d-\d\dT/.test(line) ? { t: line.slice(0, sp), text: line.slice(sp + 1) } : { t: '', text: line };
}

export function Logs({ t, obj }: { t: ResourceType; obj: Obj }) {
  const [lines, setLines] = useState<Line[]>([]);
  const [search, setSearch] = useState('');
  const [follow, setFollow] = useState(true);
  const [sources, setSources] = useState<string[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    let buf: Line[] = [];
    let pending = false;
    const flush = () => {
      pending = false;
      // Merged by timestamp: each stream is ordered, the union is sorted once per frame.
      buf.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
      if (buf.length > MAX_LINES) buf = buf.slice(-MAX_LINES);
      setLines([...buf]);
    };
    const add = (l: Line) => { buf.push(l); if (!pending) { pending = true; requestAnimationFrame(flush); } };
    void (async () => {
      const pods = await podsOf(t, obj);
      const srcs: string[] = [];
      for (const p of pods) {
        for (const c of (p.spec?.containers ?? []) as any[]) {
          const src = pods.length > 1 || p.spec.containers.length > 1 ? `${p.metadata.name}/${c.name}` : c.name;
          srcs.push(src);
          const url = `${resourceUrl({ group: '', version: 'v1', resource: 'pods' }, p.metadata.namespace, p.metadata.name, 'log')}?container=${encodeURIComponent(c.name)}&timestamps=true&tailLines=500${follow ? '&follow=true' : ''}`;
          void api(url, { signal: abort.signal }).then(async (res) => {
            const reader = res.body!.getReader();
            const dec = new TextDecoder();
            let rest = '';
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              rest += dec.decode(value, { stream: true });
              const parts = rest.split('\n');
              rest = parts.pop() ?? '';
              for (const line of parts) add({ ...splitTimestamp(line), src });
            }
            if (rest) add({ ...splitTimestamp(rest), src });
          }).catch(() => {});
        }
      }
      setSources(srcs);
    })();
    return () => abort.abort();
  }, [obj.metadata.uid, follow]);
  const shown = useMemo(() => {
    const s = search.toLowerCase();
    return s ? lines.filter((l) => l.text.toLowerCase().includes(s) || l.src.toLowerCase().includes(s)) : lines;
  }, [lines, search]);
  return h('div', { class: 'logs' },
    h('div', { class: 'toolbar' },
      h('input', { placeholder: 'search', value: search, 'data-testid': 'log-search', onInput: (e: Event) => setSearch((e.target as HTMLInputElement).value) }),
      h('label', null, h('input', { type: 'checkbox', checked: follow, onChange: () => setFollow(!follow) }), ' follow'),
      h('span', { class: 'count', 'data-testid': 'log-count' }, `${shown.length} of ${lines.length} lines from ${sources.length} streams`)),
    h('pre', { class: 'loglines big', 'data-testid': 'log-lines' }, shown.slice(-2000).map((l, i) => h('div', { key: i }, h('span', { class: 'src' }, `[${l.src}] `), l.text))));
}
