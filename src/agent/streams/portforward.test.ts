/**
 * Port-forward through the agent server into a real network namespace (needs root: `ip netns`).
 * The namespace's echo server listens on 127.0.0.1:P and the host has a different server on the
 * same 127.0.0.1:P, so an echo proves the connection was made inside the namespace.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { ApiError } from '../../errors/index.ts';
import { proxyPodStream } from '../../api/proxy/pod-stream-proxy.ts';
import { startAgentServer, type AgentServer } from './agent-server.ts';
import { fakeResolver } from './fake-resolver.fixture.ts';
import { connectPortForward, roundTrip } from './portforward-client.fixture.ts';
import type { PortForwardTransport } from './portforward-upgrade.ts';

const NETNS = `pf-test-${process.pid}`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const ECHO = `
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(64)
print('ready', flush=True)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

let agent: AgentServer;
let hostServer: net.Server;
let echo: ChildProcess | undefined;
let port = 0;
let closedPort = 0;
let proxy: http.Server;
let proxyUrl = '';

function deleteNetns(): void {
  try { execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' }); } catch { /* not there */ }
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the port-forward tests need root (ip netns)');
  // The host's 127.0.0.1:P answers "HOST" and closes; the namespace's 127.0.0.1:P echoes.
  hostServer = net.createServer((c) => { c.on('error', () => {}); c.end('HOST'); });
  hostServer.listen(0, '127.0.0.1');
  await once(hostServer, 'listening');
  port = (hostServer.address() as net.AddressInfo).port;
  closedPort = port === 65535 ? port - 1 : port + 1;
  deleteNetns();
  execFileSync('ip', ['netns', 'add', NETNS]);
  execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
  echo = spawn('ip', ['netns', 'exec', NETNS, 'python3', '-c', ECHO, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    echo!.stdout!.once('data', () => resolve());
    echo!.once('exit', (code) => reject(new Error(`echo server exited (${code})`)));
  });

  const base = fakeResolver(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pf-')));
  agent = await startAgentServer({
    host: '127.0.0.1', port: 0,
    resolver: {
      ...base,
      async portForwardTarget(_ns, pod) {
        if (pod === 'web') return { uid: 'uid-web', netnsPath: `/var/run/netns/${NETNS}` };
        if (pod === 'hostnet') return { uid: 'uid-hostnet' };
        throw new ApiError('BERTH_NOT_FOUND', `pods "${pod}" not found`);
      },
    },
  });
  // The API server's proxy in front of the agent, as `kubectl port-forward` reaches it.
  proxy = http.createServer((_req, res) => res.writeHead(404).end());
  proxy.on('upgrade', (req, socket, head) => proxyPodStream(req, socket, head, { agentUrl: agent.url, path: '/portForward/default/web' }));
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}/api/v1/namespaces/default/pods/web/portforward`;
});

after(async () => {
  echo?.kill('SIGKILL');
  deleteNetns();
  proxy?.closeAllConnections();
  proxy?.close();
  hostServer?.close();
  await agent?.close();
});

for (const transport of ['websocket', 'spdy'] as PortForwardTransport[]) {
  describe(`port-forward over ${transport}`, () => {
    const url = () => `${agent.url}/portForward/default/web`;

    test('a connection reaches the echo server inside the pod network namespace', async () => {
      const c = await connectPortForward(url(), transport);
      try {
        const { reply, error } = await roundTrip(c.forward(port), Buffer.from('hello pod'));
        assert.equal(reply.toString(), 'hello pod');
        assert.equal(error, '');
      } finally { c.close(); }
    });

    test('ten concurrent connections on one session each get their own bytes', async () => {
      const c = await connectPortForward(url(), transport);
      try {
        const bodies = Array.from({ length: 10 }, (_, i) => randomBytes(50_000 + i * 1000));
        const replies = await Promise.all(bodies.map((b) => roundTrip(c.forward(port), b)));
        replies.forEach((r, i) => {
          assert.equal(r.error, '');
          assert.equal(sha(r.reply), sha(bodies[i]), `connection ${i}`);
        });
      } finally { c.close(); }
    });

    test('8 MiB go there and back intact (flow control both ways)', async () => {
      const c = await connectPortForward(url(), transport);
      try {
        const body = randomBytes(8 * 1024 * 1024);
        const { reply, error } = await roundTrip(c.forward(port), body);
        assert.equal(error, '');
        assert.equal(reply.length, body.length);
        assert.equal(sha(reply), sha(body));
      } finally { c.close(); }
    });

    test('a closed port: the error stream says why and the data stream ends', async () => {
      const c = await connectPortForward(url(), transport);
      try {
        const { reply, error } = await roundTrip(c.forward(closedPort), Buffer.from('anyone?'));
        assert.equal(reply.length, 0);
        assert.match(error, new RegExp(`^error forwarding port ${closedPort} to pod web_default, uid uid-web: failed to connect to localhost:${closedPort} inside namespace "/var/run/netns/${NETNS}", IPv4: .*refused`));
        // The session is still usable afterwards.
        assert.equal((await roundTrip(c.forward(port), Buffer.from('still here'))).reply.toString(), 'still here');
      } finally { c.close(); }
    });

    test('through the API server proxy', async () => {
      const c = await connectPortForward(proxyUrl, transport);
      try {
        const body = randomBytes(1024 * 1024);
        const { reply, error } = await roundTrip(c.forward(port), body);
        assert.equal(error, '');
        assert.equal(sha(reply), sha(body));
      } finally { c.close(); }
    });

    test('a hostNetwork pod is dialled on the host', async () => {
      const c = await connectPortForward(`${agent.url}/portForward/default/hostnet`, transport);
      try {
        const { reply } = await roundTrip(c.forward(port), Buffer.from('x'));
        assert.equal(reply.toString(), 'HOST');
      } finally { c.close(); }
    });

    test('an unknown pod refuses the upgrade with 404', async () => {
      await assert.rejects(connectPortForward(`${agent.url}/portForward/default/nope`, transport), /upgrade refused: 404 .*pods \\"nope\\" not found/);
    });
  });
}

test('an upgrade that is neither the tunnel nor SPDY/3.1 is refused with 400', async () => {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${agent.url}/portForward/default/web`, { headers: { Connection: 'Upgrade', Upgrade: 'h2c' } });
    req.once('response', resolve);
    req.once('upgrade', () => reject(new Error('upgraded')));
    req.once('error', reject);
    req.end();
  });
  assert.equal(res.statusCode, 400);
  res.resume();
});
