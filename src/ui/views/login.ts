/**
 * Sign-in with a bearer token (a ServiceAccount token from `kubectl create token`, or the token
 * of a kubeconfig): checked with SelfSubjectReview before it is kept, so a wrong token is said at
 * once. The token stays in this tab's sessionStorage only.
 */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { token, whoami, resetCaches } from '../api.ts';

export function Login({ onLogin }: { onLogin: (user: string) => void }) {
  const [value, setValue] = useState('');
  const [err, setErr] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr('');
    let t = value.trim();
    // A whole kubeconfig pasted: take its first user's token.
    const m = /^\s*token:\s*(\S+)\s*$/m.exec(t);
    if (m) t = m[1].replace(/^["']|["']$/g, '');
    token.set(t);
    resetCaches();
    try { onLogin(await whoami()); } catch (x) { token.clear(); setErr(`Sign-in failed: ${(x as Error).message}`); }
  };
  return h('form', { class: 'login', onSubmit: submit },
    h('h1', null, 'Berth'),
    h('p', null, 'Sign in with a bearer token — `kubectl create token NAME`, or the token of your kubeconfig (paste the kubeconfig whole if you like).'),
    h('textarea', { name: 'token', 'data-testid': 'token', rows: 5, value, onInput: (e: Event) => setValue((e.target as HTMLTextAreaElement).value) }),
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'login' }, 'Sign in'),
    err ? h('p', { class: 'note err', 'data-testid': 'login-error' }, err) : null);
}
