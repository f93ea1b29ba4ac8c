/**
 * One object: YAML with edit (diff before apply, server dry-run, and the object's resourceVersion
 * sent with the update, so a concurrent change is shown as a conflict instead of overwritten — as
 * `kubectl edit` does), its events, its conditions, and for pods and workloads their logs.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import YAML from 'yaml';
import { api, apiJson, ApiFailure, can, resourceUrl, type ResourceType } from '../api.ts';
import { changedHunks, lineDiff } from '../line-diff.ts';
import { eventTime } from '../pod-reasons.ts';
import { detailsHref, groupOf, setQuery, type Route } from '../router.ts';
import { useStream } from '../use-stream.ts';
import { OutageBanner } from './outage-banner.ts';
import { Logs } from './logs.ts';
import { ExecTerminal } from './terminal.ts';
import { MetricsChart } from './metrics-chart.ts';
import type { Obj } from '../object-store.ts';

const toYaml = (o: unknown) => YAML.stringify(o, { lineWidth: 0 });

function stripForEdit(o: Obj): Obj {
  const { managedFields: _, ...meta } = o.metadata as any;
  return { ...o, metadata: meta };
}

function YamlTab({ t, obj, canEdit }: { t: ResourceType; obj: Obj; canEdit: boolean }) {
  const [text, setText] = useState<string | undefined>();
  const [base, setBase] = useState<Obj | undefined>();
  const [msg, setMsg] = useState<{ kind: 'ok' | 'err' | 'conflict'; text: string } | undefined>();
  const [diff, setDiff] = useState<string[] | undefined>();
  const editing = text !== undefined && base !== undefined;
  const start = () => { setBase(obj); setText(toYaml(stripForEdit(obj))); setMsg(undefined); setDiff(undefined); };
  const parsed = (): Obj => YAML.parse(text ?? '');
  const url = resourceUrl(t, obj.metadata.namespace, obj.metadata.name);
  const put = async (dryRun: boolean) => {
    setMsg(undefined);
    let body: Obj;
    try { body = parsed(); } catch (e) { setMsg({ kind: 'err', text: `YAML: ${(e as Error).message}` }); return; }
    // The resourceVersion of what the user began editing: a change since then is a 409.
    body.metadata = { ...body.metadata, resourceVersion: base!.metadata.resourceVersion };
    try {
      const r = await apiJson(`${url}${dryRun ? '?dryRun=All' : ''}`, { method: 'PUT', json: body });
      if (dryRun) { setMsg({ kind: 'ok', text: 'Server dry run: accepted.' }); setDiff(changedHunks(lineDiff(toYaml(stripForEdit(base!)), toYaml(stripForEdit(r)))).map((d) => d.op + ' ' + d.text)); }
      else { setMsg({ kind: 'ok', text: `Applied (resourceVersion ${r.metadata.resourceVersion}).` }); setText(undefined); setBase(undefined); }
    } catch (e) {
      const f = e as ApiFailure;
      if (f.code === 409) {
        const latest = await apiJson(url).catch(() => undefined);
        setMsg({ kind: 'conflict', text: `Conflict: ${t.kind} ${obj.metadata.name} was changed by someone else since you started editing (resourceVersion ${base!.metadata.resourceVersion} → ${latest?.metadata?.resourceVersion ?? '?'}). Nothing was applied. Their change:` });
        setDiff(latest ? changedHunks(lineDiff(toYaml(stripForEdit(base!)), toYaml(stripForEdit(latest)))).map((d) => d.op + ' ' + d.text) : undefined);
      } else setMsg({ kind: 'err', text: `${f.code ?? ''} ${f.message}` });
    }
  };
  return h('div', { class: 'yaml-tab' },
    h('div', { class: 'toolbar' },
      !editing && canEdit ? h('button', { 'data-testid': 'edit', onClick: start }, 'Edit') : null,
      editing ? [
        h('button', { key: 'd', 'data-testid': 'diff', onClick: () => { try { setDiff(changedHunks(lineDiff(toYaml(stripForEdit(base!)), toYaml(parsed()))).map((d) => d.op + ' ' + d.text)); } catch (e) { setMsg({ kind: 'err', text: String(e) }); } } }, 'Diff'),
        h('button', { key: 'r', 'data-testid': 'dry-run', onClick: () => put(true) }, 'Server dry run'),
        h('button', { key: 'a', 'data-testid': 'apply', class: 'primary', onClick: () => put(false) }, 'Apply'),
        h('button', { key: 'c', onClick: () => { setText(undefined); setBase(undefined); setDiff(undefined); } }, 'Cancel'),
      ] : null),
    msg ? h('div', { class: `note ${msg.kind}`, 'data-testid': `msg-${msg.kind}` }, msg.text) : null,
    diff ? h('pre', { class: 'diff', 'data-testid': 'diff-view' }, diff.map((l, i) => h('div', { key: i, class: l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : '' }, l))) : null,
    editing
      ? h('textarea', { class: 'yaml', 'data-testid': 'yaml-editor', value: text, spellcheck: false, onInput: (e: Event) => setText((e.target as HTMLTextAreaElement).value) })
      : h('pre', { class: 'yaml', 'data-testid': 'yaml' }, toYaml(stripForEdit(obj))));
}

function Conditions({ obj }: { obj: Obj }) {
  const cs = (obj.status?.conditions ?? []) as any[];
  if (!cs.length) return h('p', null, 'No conditions.');
  return h('table', { class: 'kv' }, h('thead', null, h('tr', null, ['Type', 'Status', 'Reason', 'Message', 'Last transition'].map((x) => h('th', { key: x }, x)))),
    h('tbody', null, cs.map((c) => h('tr', { key: c.type, class: c.status === 'True' ? '' : 'warn' }, h('td', null, c.type), h('td', null, c.status), h('td', null, c.reason ?? ''), h('td', null, c.message ?? ''), h('td', null, c.lastTransitionTime ?? '')))));
}

function Events({ obj }: { obj: Obj }) {
  const stream = useStream([{ id: 'ev', group: '', version: 'v1', resource: 'events', namespace: obj.metadata.namespace }]);
  // Berth's events have no involvedObject field selector (Kubernetes': involvedObject.*): filtered here.
  const evs = stream.store('ev').list().filter((e: any) => e.involvedObject?.name === obj.metadata.name && e.involvedObject?.kind === obj.kind && (!e.involvedObject.uid || e.involvedObject.uid === obj.metadata.uid)).sort((a, b) => eventTime(b) - eventTime(a));
  if (!evs.length) return h('p', null, 'No events.');
  return h('table', { class: 'kv', 'data-testid': 'events' }, h('tbody', null, evs.map((e: any) => h('tr', { key: e.metadata.name, class: e.type === 'Warning' ? 'warn' : '' },
    h('td', null, e.type), h('td', null, e.reason), h('td', null, e.message), h('td', null, String(e.count ?? 1)), h('td', null, e.lastTimestamp ?? e.eventTime ?? '')))));
}

export function Details({ route, types }: { route: Route; types: ResourceType[] }) {
  const [groupPart, version, resource, nsPart, name] = route.parts;
  const group = groupOf(groupPart);
  const t = types.find((x) => x.group === group && x.version === version && x.resource === resource);
  if (!t) return h('p', null, 'Loading…');
  return h(DetailsOf, { key: `${group}/${resource}/${nsPart}/${name}`, t, namespace: nsPart === '_' ? undefined : nsPart, name, tab: route.query.get('tab') ?? 'yaml' });
}

function DetailsOf({ t, namespace, name, tab }: { t: ResourceType; namespace?: string; name: string; tab: string }) {
  const stream = useStream([{ id: 'obj', group: t.group, version: t.version, resource: t.resource, namespace, fieldSelector: `metadata.name=${name}` }]);
  const obj = stream.store('obj').list()[0];
  const [perms, setPerms] = useState({ edit: false, del: false, exec: false, metrics: false });
  useEffect(() => {
    const charted = t.resource === 'pods' || t.resource === 'nodes';
    void Promise.all([can('update', t, namespace), can('delete', t, namespace), t.resource === 'pods' ? can('create', t, namespace, 'exec') : Promise.resolve(false),
      charted ? can('get', { group: '', resource: 'nodes' }, undefined, 'proxy') : Promise.resolve(false)])
      .then(([edit, del, exec, metrics]) => setPerms({ edit, del, exec, metrics }));
  }, [t.group, t.resource, namespace]);
  const hasLogs = ['pods', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs'].includes(t.resource);
  const tabs = ['yaml', 'events', 'conditions', ...(hasLogs ? ['logs'] : []), ...(perms.exec ? ['exec'] : []), ...(perms.metrics ? ['metrics'] : [])];
  const [deleted, setDeleted] = useState('');
  return h('div', { class: 'details' },
    h(OutageBanner, { stream }),
    h('div', { class: 'toolbar' },
      h('h2', null, `${t.kind} ${namespace ? `${namespace}/` : ''}${name}`),
      perms.del && obj ? h('button', { class: 'danger', 'data-testid': 'delete', onClick: async () => {
        try { await api(resourceUrl(t, namespace, name), { method: 'DELETE' }); setDeleted('Deleted.'); } catch (e) { setDeleted(String((e as Error).message)); }
      } }, 'Delete') : null, deleted ? h('span', { class: 'note' }, deleted) : null),
    h('nav', { class: 'tabs' }, tabs.map((x) => h('a', { key: x, href: detailsHref(t, namespace, name, x), class: x === tab ? 'active' : '', 'data-testid': `tab-${x}`, onClick: (e: Event) => { e.preventDefault(); setQuery({ tab: x }); } }, x))),
    !obj ? h('p', null, stream.state === 'live' ? 'Not found (deleted?).' : 'Loading…')
      : tab === 'events' ? h(Events, { obj })
      : tab === 'conditions' ? h(Conditions, { obj })
      : tab === 'logs' ? h(Logs, { t, obj })
      : tab === 'exec' && perms.exec ? h(ExecTerminal, { pod: obj })
      : tab === 'metrics' && perms.metrics ? (t.resource === 'nodes' ? h(MetricsChart, { node: name }) : obj.spec?.nodeName ? h(MetricsChart, { node: obj.spec.nodeName, namespace, pod: name }) : h('p', null, 'Not scheduled: no metrics.'))
      : h(YamlTab, { t, obj, canEdit: perms.edit }));
}
