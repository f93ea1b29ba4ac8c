/**
 * The first page: "what is wrong" first — every failing pod and short workload with a one-line
 * reason (pod-reasons.ts; CrashLoopBackOff with its last log lines) — then nodes, pods by phase,
 * workloads and recent Warning events. Lens and the Dashboard open on counts; the reason is what a
 * person came for.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { podProblems, workloadProblem, eventTime, type Problem } from '../pod-reasons.ts';
import { detailsHref, tableHref } from '../router.ts';
import { useStream } from '../use-stream.ts';
import { OutageBanner } from './outage-banner.ts';

const POD = { group: '', version: 'v1', resource: 'pods' };
const KIND_REF: Record<string, { group: string; version: string; resource: string }> = {
  Pod: POD,
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
};

/** The last lines a crash-looping container wrote before it died (its previous instance). */
function LastLogLines({ p }: { p: Problem }) {
  const [lines, setLines] = useState<string>('');
  useEffect(() => {
    let live = true;
    const base = `/api/v1/namespaces/${encodeURIComponent(p.namespace ?? '')}/pods/${encodeURIComponent(p.name)}/log?container=${encodeURIComponent(p.container!)}&tailLines=3`;
    api(`${base}&previous=true`).catch(() => api(base)).then((r) => r.text()).then((t) => { if (live) setLines(t.trim()); }, () => {});
    return () => { live = false; };
  }, [p.namespace, p.name, p.container]);
  return lines ? h('pre', { class: 'loglines', 'data-testid': 'last-log-lines' }, lines) : null;
}

function ProblemRow({ p }: { p: Problem }) {
  const ref = KIND_REF[p.kind];
  return h('li', { class: `problem sev${p.severity}`, 'data-testid': 'problem', 'data-name': p.name },
    h('a', { href: ref ? detailsHref(ref, p.namespace, p.name) : '#' }, `${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`),
    ' ', h('b', { class: 'reason' }, p.reason), ' ', h('span', { class: 'msg' }, p.message),
    p.container ? h(LastLogLines, { p }) : null);
}

export function Overview() {
  const stream = useStream([
    { id: 'pods', ...POD },
    { id: 'nodes', group: '', version: 'v1', resource: 'nodes' },
    { id: 'events', group: '', version: 'v1', resource: 'events' },
    { id: 'deployments', ...KIND_REF.Deployment },
    { id: 'statefulsets', ...KIND_REF.StatefulSet },
    { id: 'daemonsets', ...KIND_REF.DaemonSet },
  ]);
  const pods = stream.store('pods').list();
  const events = stream.store('events').list();
  const nodes = stream.store('nodes').list();
  const problems = [
    ...podProblems(pods, events),
    ...(['Deployment', 'StatefulSet', 'DaemonSet'] as const).flatMap((k) => stream.store(`${k.toLowerCase()}s`).list().map((o) => workloadProblem(k, o)).filter((x): x is Problem => !!x)),
  ];
  const phases = new Map<string, number>();
  for (const p of pods) phases.set(p.status?.phase ?? 'Unknown', (phases.get(p.status?.phase ?? 'Unknown') ?? 0) + 1);
  const readyNodes = nodes.filter((n) => (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
  const warnings = events.filter((e: any) => e.type === 'Warning').sort((a, b) => eventTime(b) - eventTime(a)).slice(0, 12);
  const errors = [...stream.stores.entries()].filter(([, s]) => s.error).map(([id, s]) => `${id}: ${s.error}`);
  return h('div', { class: 'overview' },
    h(OutageBanner, { stream }),
    errors.length ? h('div', { class: 'note' }, errors.join('; ')) : null,
    h('section', null,
      h('h2', null, `What is wrong (${problems.length})`),
      problems.length
        ? h('ul', { class: 'problems', 'data-testid': 'problems' }, problems.map((p) => h(ProblemRow, { key: `${p.kind}/${p.namespace}/${p.name}`, p })))
        : h('p', { class: 'ok' }, stream.state === 'live' ? 'Nothing is failing.' : '…')),
    h('div', { class: 'cards' },
      h('section', { class: 'card' }, h('h3', null, h('a', { href: tableHref({ group: '', version: 'v1', resource: 'nodes' }) }, 'Nodes')),
        h('div', { class: 'big', 'data-testid': 'nodes-ready' }, `${readyNodes}/${nodes.length} Ready`)),
      h('section', { class: 'card' }, h('h3', null, h('a', { href: tableHref(POD) }, 'Pods')),
        h('ul', { 'data-testid': 'pod-phases' }, [...phases.entries()].sort().map(([ph, n]) => h('li', { key: ph }, `${ph}: ${n}`)))),
      h('section', { class: 'card' }, h('h3', null, 'Workloads'),
        h('ul', null, (['Deployment', 'StatefulSet', 'DaemonSet'] as const).map((k) => {
          const l = stream.store(`${k.toLowerCase()}s`).list();
          const ok = l.filter((o) => !workloadProblem(k, o)).length;
          return h('li', { key: k }, h('a', { href: tableHref(KIND_REF[k]) }, `${k}s`), `: ${ok}/${l.length} ready`);
        })))),
    h('section', null, h('h2', null, 'Recent warnings'),
      h('table', { class: 'events' }, h('tbody', null, warnings.map((e: any) => h('tr', { key: e.metadata.uid ?? e.metadata.name },
        h('td', null, e.reason), h('td', null, `${e.involvedObject?.kind}/${e.involvedObject?.name}`), h('td', null, e.message), h('td', null, String(e.count ?? 1))))))));
}
