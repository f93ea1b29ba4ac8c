/** The shell: sign-in, the navigation (common kinds, every kind from discovery), and the routed view. */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { discover, onUnauthorized, token, whoami, type ResourceType } from '../api.ts';
import { tableHref, useRoute } from '../router.ts';
import { Login } from './login.ts';
import { Overview } from './overview.ts';
import { Table } from './table.ts';
import { Details } from './details.ts';
import { MapView } from './map.ts';
import { ViewBoundary } from './view-boundary.ts';

const COMMON = ['pods', 'deployments', 'statefulsets', 'services', 'nodes', 'events', 'persistentvolumeclaims', 'configmaps'];

export function App() {
  const [user, setUser] = useState<string | undefined>();
  const [checked, setChecked] = useState(false);
  const [types, setTypes] = useState<ResourceType[]>([]);
  const route = useRoute();
  useEffect(() => {
    const out = () => { token.clear(); setUser(undefined); };
    onUnauthorized.add(out);
    // With no token kept, the browser may still be signed in by a header it sends on every request.
    whoami().then(setUser, () => token.clear()).finally(() => setChecked(true));
    return () => { onUnauthorized.delete(out); };
  }, []);
  useEffect(() => { if (user) discover().then(setTypes, () => {}); }, [user]);
  if (!checked) return h('p', null, 'Loading…');
  if (!user) return h(Login, { onLogin: setUser });
  const common = COMMON.map((r) => types.find((t) => t.resource === r && (t.group === '' || t.group === 'apps' || t.group === 'events.k8s.io') )).filter((t): t is ResourceType => !!t && !(t.resource === 'events' && t.group !== ''));
  const view = route.view === 'table' ? h(Table, { route, types })
    : route.view === 'details' ? h(Details, { route, types })
    : route.view === 'map' ? h(MapView, { route })
    : h(Overview, null);
  return h('div', { class: 'app' },
    h('header', null,
      h('a', { class: 'brand', href: '#/' }, 'Berth'),
      h('nav', null,
        h('a', { href: '#/', class: route.view === 'overview' ? 'active' : '' }, 'Overview'),
        h('a', { href: '#/map', class: route.view === 'map' ? 'active' : '' }, 'Map'),
        common.map((t) => h('a', { key: t.resource, href: tableHref(t), class: route.view === 'table' && route.parts[2] === t.resource ? 'active' : '' }, t.resource)),
        h('select', {
          'data-testid': 'all-kinds', value: '',
          onChange: (e: Event) => { const v = (e.target as HTMLSelectElement).value; if (v) location.hash = v; },
        }, h('option', { value: '' }, 'all kinds…'), [...types].sort((a, b) => a.resource.localeCompare(b.resource)).map((t) => h('option', { key: `${t.group}/${t.resource}`, value: tableHref(t) }, `${t.resource}${t.group ? `.${t.group}` : ''}`)))),
      h('span', { class: 'user', 'data-testid': 'user' }, user),
      h('button', { onClick: () => { token.clear(); setUser(undefined); } }, 'Sign out')),
    h('main', null, h(ViewBoundary, { route: location.hash }, view)));
}
