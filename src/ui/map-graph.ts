/**
 * The map's model (map-model.ts) written into the graphology graph sigma draws: only what changed
 * is written, since every write makes sigma re-index the element. Apart from the view so it can be
 * tested without a browser.
 */
import { MultiDirectedGraph } from 'graphology';
import type { MapEdge, MapModel, MapNode } from './map-model.ts';

export const COLORS: Record<MapNode['kind'], string> = {
  Node: '#475467', Pod: '#2d5bd7', Service: '#067647', Workload: '#7a5af8', PVC: '#b54708', Group: '#98a2b3', Outside: '#344054',
};
export const EDGE_COLORS: Record<MapEdge['kind'], string> = { 'runs-on': '#e4e7ec', owns: '#d9d6fe', selects: '#abefc6', mounts: '#fedf89', traffic: '#f04438' };

export function nodeAttrs(n: MapNode) {
  const size = n.kind === 'Group' ? 4 + Math.min(10, Math.sqrt(n.members ?? 1) * 1.5) : n.kind === 'Node' ? 7 : n.failing ? 5 : n.kind === 'Pod' ? 3 : 4;
  return { label: n.label, size, color: n.failing ? '#d92d20' : COLORS[n.kind], kind: n.kind, forceLabel: !!n.failing || n.kind === 'Node' || n.kind === 'Service' };
}

export function edgeAttrs(e: MapEdge) {
  return { color: EDGE_COLORS[e.kind], size: e.kind === 'traffic' ? 1.5 + Math.min(5, Math.log2(1 + (e.rate ?? 0) * 4)) : 0.6, kind: e.kind };
}

/**
 * An empty map graph, a multigraph: a Service's traffic edge to a pod runs beside its `selects` edge to that
 * pod (same ends, another kind); a simple graph throws on the second, and that throw inside the view's
 * effect froze the whole map page (the UI suite's map cases failed on it under load).
 */
export function newMapGraph(): MultiDirectedGraph {
  return new MultiDirectedGraph();
}

/** Brings `graph` to `map`; true when nodes or edges came or went (the layout should run again). */
export function syncGraph(graph: MultiDirectedGraph, map: MapModel): boolean {
  let structural = false;
  const want = new Set(map.nodes.map((n) => n.id));
  graph.forEachNode((id: string) => { if (!want.has(id)) { graph.dropNode(id); structural = true; } });
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
  return structural;
}
