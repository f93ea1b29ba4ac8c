/**
 * Deep links: every view is a URL (`#/`, `#/t/<group>/<version>/<resource>?ns=&l=&f=&q=&sort=`,
 * `#/r/<group>/<version>/<resource>/<namespace>/<name>?tab=`, `#/map`), so a view can be bookmarked,
 * shared and reloaded. The hash keeps the server's side to one static shell. `core` stands for
 * the legacy group, `_` for no namespace.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  view: 'overview' | 'table' | 'details' | 'map';
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '') || '/';
  const [path, qs] = h.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(qs ?? '');
  if (parts[0] === 't' && parts.length === 4) return { view: 'table', parts: parts.slice(1), query };
  if (parts[0] === 'r' && parts.length === 6) return { view: 'details', parts: parts.slice(1), query };
  if (parts[0] === 'map') return { view: 'map', parts: [], query };
  return { view: 'overview', parts: [], query };
}

export const groupPart = (g: string) => g || 'core';
export const groupOf = (p: string) => (p === 'core' ? '' : p);

export function tableHref(t: { group: string; version: string; resource: string }, query: Record<string, string> = {}): string {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString();
  return `#/t/${groupPart(t.group)}/${t.version}/${t.resource}${q ? `?${q}` : ''}`;
}

export function detailsHref(t: { group: string; version: string; resource: string }, namespace: string | undefined, name: string, tab = ''): string {
  return `#/r/${groupPart(t.group)}/${t.version}/${t.resource}/${encodeURIComponent(namespace || '_')}/${encodeURIComponent(name)}${tab ? `?tab=${tab}` : ''}`;
}

export function useRoute(): Route {
  const [r, setR] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const f = () => setR(parseHash(location.hash));
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return r;
}

/** Replaces the query of the current view (no new history entry for each keystroke). */
export function setQuery(q: Record<string, string>): void {
  const [path] = location.hash.split('?');
  const s = new URLSearchParams(Object.entries(q).filter(([, v]) => v)).toString();
  history.replaceState(null, '', `${path}${s ? `?${s}` : ''}`);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
