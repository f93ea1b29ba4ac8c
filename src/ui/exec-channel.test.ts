import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execUrl, frame, parseFrame, resizeFrame, STDIN, tokenProtocol } from './exec-channel.ts';

test('frames carry the channel byte first; resize is JSON Width/Height', () => {
  assert.deepEqual([...frame(STDIN, 'ls\r')], [0, 108, 115, 13]);
  const r = parseFrame(resizeFrame(80, 24).buffer as ArrayBuffer);
  assert.equal(r.channel, 4);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(r.data)), { Width: 80, Height: 24 });
});

test('the token subprotocol is unpadded base64url, as kube-apiserver reads it', () => {
  const p = tokenProtocol('a?b>c');
  assert.equal(p, `base64url.bearer.authorization.k8s.io.${Buffer.from('a?b>c').toString('base64url')}`);
  assert.ok(!p.includes('=') && !p.includes('+') && !p.includes('/'));
});

test('the exec URL: wss, the command repeated, a TTY with stdin', () => {
  const u = new URL(execUrl('https://127.0.0.1:6443', 'ns', 'web', 'c', ['sh', '-c', 'ls']));
  assert.equal(u.protocol, 'wss:');
  assert.equal(u.pathname, '/api/v1/namespaces/ns/pods/web/exec');
  assert.deepEqual(u.searchParams.getAll('command'), ['sh', '-c', 'ls']);
  assert.equal(u.searchParams.get('tty'), 'true');
});
