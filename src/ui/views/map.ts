/**
 * The map: the cluster as a graph drawn by sigma (WebGL) from a graphology graph, laid out by
 * ForceAtlas2 in a web worker (graphology-layout-forceatlas2/worker) so the page stays responsive
 * at thousands of pods. Objects come from the view's one watch stream; observed connections from
 * /ui/connections, read every 2 s — they are samples of the agents' conntrack tables, not objects
 * with a watch. Clicking a group expands or collapses it; clicking a pod opens its details.
 */
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { DirectedGraph } from 'graphology';
import { Sigma } from 'sigma';
import * as fa2Worker from 'graphology-layout-forceatlas2/worker.js';
import { apiJson } from '../api.ts';
import { buildMap, endpointLabel, type Connection, type Grouping, type MapEdge, type MapNode } from '../map-model.ts';
import { detailsHref, setQuery, type Route } from '../router.ts';
import { useStream } from '../use-stream.ts';
import { OutageBanner } from './outage-banner.ts';

const COLORS: Record<MapNode['kind'], string> = {
  Node: '#475467', Pod: '#2d5bd7', Service: '#067647', Workload: '#7a5af8', PVC: '#b54708', Group: '#98a2b3', Outside: '#344054',
};
const EDGE_COLORS: Record<MapEdge['kind'], string> = { 'runs-on': '#e4e7ec', owns: '#d9d6fe', selects: '#abefc6', mounts: '#fedf89', traffic: '#f04438' };
const LAYOUT_MS = 6000;

/** The worker supervisor (a CommonJS default export: its typings and the bundle disagree on where it sits). */
interface LayoutSupervisor { start(): void; stop(): void; kill(): void; isRunning(): boolean }
const FA2Layout = ((fa2Worker as unknown as { default?: unknown }).default ?? fa2Worker) as new (graph: DirectedGraph, params: object) => LayoutSupervisor;

function nodeAttrs(n: MapNode) {
  const size = n.kind === 'Group' ? 4 + Math.min(10, Math.sqrt(n.members ?? 1) * 1.5) : n.kind === 'Node' ? 7 : n.failing ? 5 : n.kind === 'Pod' ? 3 : 4;
  return { label: n.label, size, color: n.failing ? '#d92d20' : COLORS[n.kind], kind: n.kind, forceLabel: !!n.failing || n.kind === 'Node' || n.kind === 'Service' };
}

function edgeAttrs(e: MapEdge) {
  return { color: EDGE_COLORS[e.kind], size: e.kind === 'traffic' ? 1.5 + Math.min(5, Math.log2(1 + (e.rate ?? 0) * 4)) : 0.6, kind: e.kind };
}

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
  const state = useRef<{ graph: DirectedGraph; sigma: Sigma; layout: LayoutSupervisor; stopAt?: ReturnType<typeof setTimeout> } | undefined>(undefined);
  const handlers = useRef({ click: (_id: string) => {} });
  handlers.current.click = (id: string) => {
    const n = map.nodes.find((x) => x.id === id);
    if (n?.kind === 'Group') { const s = new Set(expanded); s.add(id); setExpanded(s); }
    else if (n?.kind === 'Pod') { const [ns, name] = id.slice(4).split('/'); location.hash = detailsHref({ group: '', version: 'v1', resource: 'pods' }, ns, name); }
  };
  useEffect(() => {
    const graph = new DirectedGraph();
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
    const { graph } = s;
    let structural = false;
    const want = new Set(map.nodes.map((n) => n.id));
    graph.forEachNode((id: string) => { if (!want.has(id)) { graph.dropNode(id); structural = true; } });
    // Only what changed is written: every write makes sigma re-index the element.
    const differs = (cur: Record<string, unknown>, next: Record<string, unknown>) => Object.keys(next).some((k) => cur[k] !== next[k]);
    for (const n of map.nodes) {
      if (graph.hasNode(n.id)) { const a = nodeAttrs(n); if (differs(graph.getNodeAttributes(n.id), a)) graph.mergeNodeAttributes(n.id, a); }
      else { graph.addNode(n.id, { ...nodeAttrs(n), x: Math.random() * 100, y: Math.random() * 100 }); structural = true; }
    }
    const wantE = new Set(map.edges.map((e) => e.id));
    graph.forEachEdge((id: string) => { if (!wantE.has(id)) { graph.dropEdge(id); structural = true; } });
    for (const e of map.edges) {
      if (graph.hasEdge(e.id)) { const a = edgeAttrs(e); if (differs(graph.getEdgeAttributes(e.id), a)) graph.mergeEdgeAttributes(e.id, a); }
      else { graph.addDirectedEdgeWithKey(e.id, e.source, e.target, edgeAttrs(e)); structural = true; }
    }
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
