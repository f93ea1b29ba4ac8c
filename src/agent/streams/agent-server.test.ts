import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startAgentServer } from './agent-server.ts';
import { fakeResolver } from './fake-resolver.fixture.ts';
import { execOverWebSocket } from './exec-client.fixture.ts';
import { LogFileWriter, containerLogPath } from './log-file.ts';
import { exitStatus, negotiateSubprotocol } from './remotecommand.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-agent-'));
const resolver = fakeResolver(dataDir);
const agent = await startAgentServer({ host: '127.0.0.1', port: 0, resolver });
after(() => agent.close());
const wsUrl = agent.url.replace(/^http/, 'ws');

/** GETs a URL and hands the body so far to `onChunk`, which returns true to hang up (status 0 then). */
function get(url: string, onChunk?: (body: string) => boolean): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
        if (onChunk?.(body)) { resolve({ status: 0, type: res.headers['content-type'], body }); req.destroy(); }
      });
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
      res.on('error', () => {});
    });
    req.on('error', reject);
  });
}

test('subprotocol negotiation prefers v5, accepts v4, refuses others', () => {
  assert.equal(negotiateSubprotocol('v4.channel.k8s.io, v5.channel.k8s.io'), 'v5.channel.k8s.io');
  assert.equal(negotiateSubprotocol(new Set(['v4.channel.k8s.io'])), 'v4.channel.k8s.io');
  assert.equal(negotiateSubprotocol('SPDY/3.1+portforward.k8s.io'), undefined);
  assert.equal(negotiateSubprotocol(undefined), undefined);
});

test('containerLogs: whole file, tail, previous, errors', async () => {
  new LogFileWriter(containerLogPath(dataDir, 'default-web', 'app', 0)).write('stdout', 'old instance\n');
  const w = new LogFileWriter(containerLogPath(dataDir, 'default-web', 'app', 1));
  w.write('stdout', 'a\nb\nc\n');
  let r = await get(`${agent.url}/containerLogs/default/web/app?tailLines=2`);
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/plain');
  assert.equal(r.body, 'b\nc\n');
  r = await get(`${agent.url}/containerLogs/default/web/app?previous=true`);
  assert.equal(r.body, 'old instance\n');
  r = await get(`${agent.url}/containerLogs/default/nope/app`);
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).reason, 'NotFound');
  r = await get(`${agent.url}/containerLogs/default/web/app?tailLines=-1`);
  assert.equal(r.status, 400);
});

test('containerLogs follow streams appended lines over HTTP', async () => {
  const w = new LogFileWriter(containerLogPath(dataDir, 'default-web', 'follow', 1));
  w.write('stdout', 'first\n');
  let wrote = false;
  const r = await get(`${agent.url}/containerLogs/default/web/follow?follow=true&timestamps=1`, (body) => {
    if (body.includes('first\n') && !wrote) { wrote = true; w.write('stderr', 'second\n'); }
    return body.includes('second\n');
  });
  assert.equal(r.status, 0, 'stream still open until the client left');
  assert.match(r.body, /^\d{4}-\d\d-\d\dT[\d:.]+Z first\n\S+Z second\n$/);
});

test('exec over websocket: stdin to cat, [255,0] closes stdin, Success status', async () => {
  const r = await execOverWebSocket(`${wsUrl}/exec/default/web/app?command=cat&stdin=true&stdout=true&stderr=true`, {
    stdin: ['hello\n'], resize: { width: 80, height: 24 },
  });
  assert.equal(r.protocol, 'v5.channel.k8s.io');
  assert.equal(r.stdout, 'hello\n');
  assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
  assert.deepEqual(resolver.resizes.at(-1), { width: 80, height: 24 });
});

test('exec: non-zero exit gives NonZeroExitCode; stderr on channel 2; v4 accepted', async () => {
  const cmd = ['sh', '-c', 'echo oops >&2; exit 3'].map((c) => `command=${encodeURIComponent(c)}`).join('&');
  const r = await execOverWebSocket(`${wsUrl}/exec/default/web/app?${cmd}&stdout=1&stderr=1`, { protocols: ['v4.channel.k8s.io'] });
  assert.equal(r.protocol, 'v4.channel.k8s.io');
  assert.equal(r.stderr, 'oops\n');
  assert.deepEqual(r.status, exitStatus(3, ['sh', '-c', 'echo oops >&2; exit 3']));
  assert.equal((r.status as { reason: string }).reason, 'NonZeroExitCode');
  assert.deepEqual(exitStatus(3, ['sh', '-c', 'exit 3']), {
    metadata: {}, status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('exec: a command that cannot start gives InternalError; bad requests are refused', async () => {
  const r = await execOverWebSocket(`${wsUrl}/exec/default/web/app?command=/nonexistent-berth&stdout=1`);
  assert.equal((r.status as { reason: string }).reason, 'InternalError');
  await assert.rejects(execOverWebSocket(`${wsUrl}/exec/default/web/app?stdout=1`), /upgrade refused: 400/);
  await assert.rejects(execOverWebSocket(`${wsUrl}/exec/default/web/app?command=ls&stdout=1`, { protocols: ['channel.k8s.io'] }), /upgrade refused: 400/);
  assert.equal((await get(`${agent.url}/portForward/default/web`)).status, 501);
  assert.equal((await get(`${agent.url}/exec/default/web/app?command=ls`)).status, 400);
});

test('attach: output written after attaching arrives, stdout and stderr apart; ends when the container exits', async () => {
  const w = new LogFileWriter(containerLogPath(dataDir, 'default-web', 'att', 1));
  w.write('stdout', 'before attach\n');
  const attached = execOverWebSocket(`${wsUrl}/attach/default/web/att?stdout=1&stderr=1`);
  await new Promise((r) => setTimeout(r, 200));
  w.write('stdout', 'out line\n');
  w.write('stderr', 'err line\n');
  await new Promise((r) => setTimeout(r, 200));
  resolver.exitContainer();
  const r = await attached;
  assert.equal(r.stdout, 'out line\n');
  assert.equal(r.stderr, 'err line\n');
  assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
});

test('attach: stdin and unknown pods are refused before the upgrade', async () => {
  await assert.rejects(execOverWebSocket(`${wsUrl}/attach/default/web/att?stdin=1&stdout=1`), /upgrade refused: 400/);
  await assert.rejects(execOverWebSocket(`${wsUrl}/attach/default/nope/att?stdout=1`), /upgrade refused: 404/);
  await assert.rejects(execOverWebSocket(`${wsUrl}/attach/default/web/att`), /upgrade refused: 400/);
});
