/**
 * The map: the cluster as a graph drawn by sigma (WebGL) from a graphology graph, laid out by
 * ForceAtlas2 in a web worker (graphology-layout-forceatlas2/worker) so the page stays responsive
 * at thousands of pods. Objects come from the view's one watch stream; observed connections from
 * /ui/connections, read every 2 s — they are samples of the agents' conntrack tables, not objects
 * with a watch. Clicking a group expands or collapses it; clicking a pod opens its details.
 */
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { MultiDirectedGraph } from 'graphology';
import { Sigma } from 'sigma';
import * as fa2Worker from 'graphology-layout-forceatlas2/worker.js';
import { apiJson } from '../api.ts';
import { buildMap, endpointLabel, type Connection, type Grouping } from '../map-model.ts';
import { COLORS, EDGE_COLORS, newMapGraph, syncGraph } from '../map-graph.ts';
import { detailsHref, setQuery, type Route } from '../router.ts';
import { useStream } from '../use-stream.ts';
import { OutageBanner } from './outage-banner.ts';

const LAYOUT_MS = 6000;

/** The worker supervisor (a CommonJS default export: its typings and the bundle disagree on where it sits). */
interface LayoutSupervisor { start(): void; stop(): void; kill(): void; isRunning(): boolean }
const FA2Layout = ((fa2Worker as unknown as { default?: unknown }).default ?? fa2Worker) as new (graph: MultiDirectedGraph, params: object) => LayoutSupervisor;

export function MapView({ route }: { route: Route }) {
  const grouping = (route.query.get('group') as Grouping) || 'namespace';
  const stream = useStream([
    { id: 'pods', group: '', version: 'v1', resource: 'pods' },
    { id: 'services', group: '', version: 'v1', resource: 'services' },
    { id: 'nodes', group: '', version: 'v1', resource: 'nodes' },
    { id: 'replicasets', group: 'apps', version: 'v1', resource: 'replicasets' },
  ]);
  const [connections, setConnections] = useState<Connection[]>([]);
  const [connErr, setConnErr] = useState('');
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  useEffect(() => {
    let live = true;
    const read = () => apiJson('/ui/connections').then((r) => { if (live) { setConnections(r.connections); setConnErr(''); } }, (e) => { if (live) setConnErr(String(e.message)); });
    void read();
    const t = setInterval(read, 2000);
    return () => { live = false; clearInterval(t); };
  }, []);
  const v = (id: string) => stream.store(id).version;
  const map = useMemo(() => buildMap({
    pods: stream.store('pods').list(), services: stream.store('services').list(), nodes: stream.store('nodes').list(),
    replicasets: stream.store('replicasets').list(), connections,
  }, grouping, expanded), [v('pods'), v('services'), v('nodes'), v('replicasets'), connections, grouping, expanded]);

  const container = useRef<HTMLDivElement>(null);
  const state = useRef<{ graph: MultiDirectedGraph; sigma: Sigma; layout: LayoutSupervisor; stopAt?: ReturnType<typeof setTimeout> } | undefined>(undefined);
  const handlers = useRef({ click: (_id: string) => {} });
  handlers.current.click = (id: string) => {
    const n = map.nodes.find((x) => x.id === id);
    if (n?.kind === 'Group') { const s = new Set(expanded); s.add(id); setExpanded(s); }
    else if (n?.kind === 'Pod') { const [ns, name] = id.slice(4).split('/'); location.hash = detailsHref({ group: '', version: 'v1', resource: 'pods' }, ns, name); }
  };
  useEffect(() => {
    const graph = newMapGraph();
    const sigma = new Sigma(graph, container.current!);
    sigma.on('clickNode', ({ node }) => handlers.current.click(node));
    const layout = new FA2Layout(graph, { settings: { gravity: 3, strongGravityMode: true, scalingRatio: 6, barnesHutOptimize: true, slowDown: 5 } });
    state.current = { graph, sigma, layout };
    (window as unknown as { berthMap?: unknown }).berthMap = { graph, sigma };
    return () => { layout.kill(); sigma.kill(); state.current = undefined; };
  }, []);
  useEffect(() => {
    const s = state.current;
    if (!s) return;
    const structural = syncGraph(s.graph, map);
    if (structural) {
      // The layout runs in its worker for a few seconds after each change, then rests.
      if (!s.layout.isRunning()) s.layout.start();
      clearTimeout(s.stopAt);
      s.stopAt = setTimeout(() => s.layout.stop(), LAYOUT_MS);
    }
  }, [map]);

  const traffic = connections.filter((c) => c.from.kind === 'Pod' || c.to.kind === 'Pod');
  return h('div', { class: 'map-view' },
    h(OutageBanner, { stream }),
    h('div', { class: 'toolbar' },
      h('h2', null, 'Map'),
      h('label', null, 'group by ', h('select', { value: grouping, 'data-testid': 'map-grouping', onChange: (e: Event) => { setExpanded(new Set()); setQuery({ group: (e.target as HTMLSelectElement).value }); } },
        ['none', 'namespace', 'node', 'workload'].map((g) => h('option', { key: g, value: g }, g)))),
      expanded.size ? h('button', { onClick: () => setExpanded(new Set()) }, `collapse ${expanded.size} group(s)`) : null,
      h('span', { class: 'count', 'data-testid': 'map-count' }, `${map.nodes.length} nodes, ${map.edges.length} edges`),
      h('span', { class: 'legend' }, Object.entries(COLORS).map(([k, c]) => h('span', { key: k, style: { color: c } }, `● ${k} `)), h('span', { style: { color: '#d92d20' } }, '● failing '), h('span', { style: { color: EDGE_COLORS.traffic } }, '→ traffic'))),
    connErr ? h('div', { class: 'note' }, `Observed connections unavailable: ${connErr}`) : null,
    h('div', { class: 'map-body' },
      h('div', { class: 'map-canvas', ref: container, 'data-testid': 'map-canvas' }),
      h('aside', { class: 'map-side' },
        h('h3', null, `Observed connections (${traffic.length})`),
        h('ul', { 'data-testid': 'connections' }, traffic.map((c, i) => h('li', { key: i, 'data-testid': 'connection' },
          `${endpointLabel(c.from)} → ${c.via ? `${endpointLabel(c.via)}:${c.via.port} → ` : ''}${endpointLabel(c.to)}:${c.port} `,
          h('span', { class: 'count' }, `${c.connectionsPerSecond.toFixed(1)} conn/s, ${c.open} open${c.bytesPerSecond !== undefined ? `, ${c.bytesPerSecond} B/s` : ''}`)))))));
}
