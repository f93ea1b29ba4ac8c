/**
 * An exec terminal in the browser: xterm.js over the API server's exec websocket (the same
 * endpoint and protocol as `kubectl exec -it`), with the user's token — so RBAC's pods/exec decides.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { token } from '../api.ts';
import { ERROR, execUrl, frame, parseFrame, resizeFrame, STDERR, STDIN, STDOUT, tokenProtocol } from '../exec-channel.ts';
import type { Obj } from '../object-store.ts';

export function ExecTerminal({ pod }: { pod: Obj }) {
  const containers = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
  const [container, setContainer] = useState(containers[0] ?? '');
  const [command, setCommand] = useState('sh');
  const [session, setSession] = useState(0);
  const [status, setStatus] = useState('');
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!session || !el.current) return;
    const term = new Terminal({ fontSize: 13, cursorBlink: true, convertEol: false });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el.current);
    fit.fit();
    const url = execUrl(location.origin, pod.metadata.namespace ?? '', pod.metadata.name, container, command.split(/\s+/).filter(Boolean));
    const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io', ...(token.get() ? [tokenProtocol(token.get())] : [])]);
    ws.binaryType = 'arraybuffer';
    setStatus('connecting…');
    const dec = new TextDecoder();
    ws.onopen = () => { setStatus(`connected (${ws.protocol})`); ws.send(resizeFrame(term.cols, term.rows)); term.focus(); };
    ws.onmessage = (m) => {
      const { channel, data } = parseFrame(m.data as ArrayBuffer);
      if (channel === STDOUT || channel === STDERR) term.write(data);
      else if (channel === ERROR && data.length) {
        try { const st = JSON.parse(dec.decode(data)); if (st.status !== 'Success') setStatus(`ended: ${st.message ?? st.reason}`); } catch { /* not JSON */ }
      }
    };
    ws.onclose = (e) => setStatus((s) => (s.startsWith('ended') ? s : `closed${e.code !== 1000 ? ` (${e.code}${e.reason ? `: ${e.reason}` : ''})` : ''}`));
    ws.onerror = () => setStatus('connection failed (not allowed, or the pod is not running)');
    const input = term.onData((d) => { if (ws.readyState === WebSocket.OPEN) ws.send(frame(STDIN, d)); });
    const resize = () => { fit.fit(); if (ws.readyState === WebSocket.OPEN) ws.send(resizeFrame(term.cols, term.rows)); };
    addEventListener('resize', resize);
    return () => { removeEventListener('resize', resize); input.dispose(); ws.close(); term.dispose(); };
  }, [session]);
  return h('div', { class: 'terminal' },
    h('div', { class: 'toolbar' },
      containers.length > 1 ? h('select', { value: container, onChange: (e: Event) => setContainer((e.target as HTMLSelectElement).value) }, containers.map((c) => h('option', { key: c, value: c }, c))) : null,
      h('input', { value: command, 'data-testid': 'exec-command', onInput: (e: Event) => setCommand((e.target as HTMLInputElement).value) }),
      h('button', { class: 'primary', 'data-testid': 'exec-start', onClick: () => setSession((n) => n + 1) }, session ? 'Restart' : 'Connect'),
      h('span', { class: 'count', 'data-testid': 'exec-status' }, status)),
    h('div', { class: 'xterm-host', ref: el, 'data-testid': 'terminal' }));
}
