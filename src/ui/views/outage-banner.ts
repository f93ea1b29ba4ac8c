/** The connection state of a view's stream, said plainly: live, or since when it is down. */
import { h } from 'preact';
import type { WatchStream } from '../watch-stream.ts';

export function OutageBanner({ stream }: { stream: WatchStream }) {
  if (stream.state === 'live') return h('div', { class: 'conn live', 'data-testid': 'conn-live' }, '● live');
  if (stream.state === 'connecting') return h('div', { class: 'conn', 'data-testid': 'conn-connecting' }, 'connecting…');
  const s = Math.round((Date.now() - stream.outageSince) / 1000);
  return h('div', { class: 'conn outage', 'data-testid': 'conn-outage', role: 'alert' },
    `Connection to the API server lost${s > 0 ? ` ${s} s ago` : ''} — reconnecting; rows shown may be out of date.`);
}
