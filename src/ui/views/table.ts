/**
 * A live table of any kind from discovery: list + watch over the view's one stream, label and field
 * selectors sent to the server (as kubectl get -l / --field-selector), a text filter and sorting in
 * the browser, and only the rows in view in the DOM (table-model.ts). Every setting is in the URL.
 */
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, can, resourceUrl, type ResourceType } from '../api.ts';
import { keyOf, type Obj } from '../object-store.ts';
import { columnsFor, viewportWindow, age } from '../table-model.ts';
import { RowIndex } from '../row-index.ts';
import { detailsHref, groupOf, setQuery, type Route } from '../router.ts';
import { useStream } from '../use-stream.ts';
import { OutageBanner } from './outage-banner.ts';

const ROW_HEIGHT = 28;

function DeleteButton({ t, o, onDeleted }: { t: ResourceType; o: Obj; onDeleted: () => void }) {
  const [armed, setArmed] = useState(false);
  const [err, setErr] = useState('');
  if (err) return h('span', { class: 'err', title: err }, 'failed');
  return h('button', {
    class: armed ? 'danger armed' : 'danger', 'data-testid': 'delete',
    onClick: async (e: Event) => {
      e.preventDefault();
      if (!armed) { setArmed(true); return; }
      try {
        await api(resourceUrl(t, o.metadata.namespace, o.metadata.name), { method: 'DELETE' });
        onDeleted();
      } catch (x) { setErr(String((x as Error).message)); }
    },
  }, armed ? 'Confirm delete' : 'Delete');
}

export function Table({ route, types }: { route: Route; types: ResourceType[] }) {
  const [groupPart, version, resource] = route.parts;
  const group = groupOf(groupPart);
  const t = types.find((x) => x.group === group && x.version === version && x.resource === resource);
  if (!t) return h('p', null, types.length ? `No resource ${resource} in ${group || 'core'}/${version}.` : 'Loading…');
  return h(TableOf, { key: `${group}/${resource}`, t, route });
}

function TableOf({ t, route }: { t: ResourceType; route: Route }) {
  const q = route.query;
  const ns = q.get('ns') ?? '';
  const labelSelector = q.get('l') ?? '';
  const fieldSelector = q.get('f') ?? '';
  const filter = q.get('q') ?? '';
  const sort = q.get('sort') ?? 'Name';
  const desc = q.get('desc') === '1';
  const stream = useStream([{ id: 'rows', group: t.group, version: t.version, resource: t.resource, namespace: t.namespaced ? ns || undefined : undefined, labelSelector: labelSelector || undefined, fieldSelector: fieldSelector || undefined }]);
  const store = stream.store('rows');
  const columns = useMemo(() => columnsFor(t.resource, t.namespaced), [t.resource, t.namespaced]);
  // Kept sorted as events arrive (row-index.ts); re-made only when the sort changes.
  const index = useMemo(() => new RowIndex(store, columns, sort, desc), [store, columns, sort, desc]);
  useEffect(() => () => index.close(), [index]);
  const rows = index.entriesFor(filter);
  const [canDelete, setCanDelete] = useState(false);
  useEffect(() => { void can('delete', t, ns || undefined).then(setCanDelete); }, [t.group, t.resource, ns]);
  const scroller = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 800 });
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const on = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    on();
    el.addEventListener('scroll', on, { passive: true });
    addEventListener('resize', on);
    return () => { el.removeEventListener('scroll', on); removeEventListener('resize', on); };
  }, []);
  const win = viewportWindow(scroll.top, scroll.height, ROW_HEIGHT, rows.length);
  const params = { ns, l: labelSelector, f: fieldSelector, q: filter, sort, desc: desc ? '1' : '' };
  const set = (k: string, v: string) => setQuery({ ...params, [k]: v });
  const input = (k: string, v: string, ph: string) => h('input', { value: v, placeholder: ph, 'data-testid': `input-${k}`, onChange: (e: Event) => set(k, (e.target as HTMLInputElement).value) });
  const gridCols = `repeat(${columns.length}, minmax(80px, 1fr))${canDelete ? ' 130px' : ''}`;
  return h('div', { class: 'table-view' },
    h(OutageBanner, { stream }),
    h('div', { class: 'toolbar' },
      h('h2', null, `${t.kind} `, h('span', { class: 'count', 'data-testid': 'row-count' }, `${rows.length}${rows.length !== index.size ? ` of ${index.size}` : ''}`)),
      t.namespaced ? input('ns', ns, 'namespace (all)') : null,
      input('l', labelSelector, 'label selector, e.g. app=web'),
      input('f', fieldSelector, 'field selector, e.g. status.phase=Running'),
      h('input', { value: filter, placeholder: 'filter text', 'data-testid': 'input-q', onInput: (e: Event) => set('q', (e.target as HTMLInputElement).value) })),
    store.error ? h('div', { class: 'note', 'data-testid': 'table-error' }, store.error) : null,
    h('div', { class: 'grid-head', style: { gridTemplateColumns: gridCols } },
      columns.map((c) => h('div', {
        key: c.title, class: 'th', 'data-testid': `sort-${c.title}`,
        onClick: () => setQuery({ ...params, sort: c.title, desc: sort === c.title && !desc ? '1' : '' }),
      }, c.title, sort === c.title ? (desc ? ' ▼' : ' ▲') : '')), canDelete ? h('div', { class: 'th' }, '') : null),
    h('div', { class: 'grid-body', ref: scroller, 'data-testid': 'table-body' },
      h('div', { style: { height: `${rows.length * ROW_HEIGHT}px`, position: 'relative' } },
        rows.slice(win.start, win.end).map(({ o }, i) => h('div', {
          key: keyOf(o), class: 'tr', 'data-testid': 'row', 'data-name': o.metadata.name,
          style: { top: `${(win.start + i) * ROW_HEIGHT}px`, height: `${ROW_HEIGHT}px`, gridTemplateColumns: gridCols },
        },
        columns.map((c, ci) => h('div', { key: c.title, class: 'td' },
          ci === 0 ? h('a', { href: detailsHref(t, o.metadata.namespace, o.metadata.name) }, o.metadata.name)
            : c.title === 'Age' ? age(o.metadata.creationTimestamp) : String(c.value(o)))),
        canDelete ? h('div', { class: 'td' }, h(DeleteButton, { t, o, onDeleted: () => {} })) : null)))));
}
