/**
 * End to end: a second machine joins. `bin/berth server` listens on a private lab bridge; a node
 * agent in a network namespace of the test's own runs `berth join --server https://… --token-file
 * DATA/join-token` — CA pinned by the token's hash, a CSR approved for its bootstrap token, its own
 * serving certificate by a kubelet-serving CSR — becomes Ready, runs a pod, and kubectl logs/exec
 * reach it through the API server over TLS. Wrong tokens are refused with clear errors; the node's
 * credential reads its own pod's Secret but not another node's; the agent's stream server refuses
 * callers without the API server's certificate. Needs root (namespaces, bridges, cgroups).
 *
 *   host netns: bridge bj<id> 198.18.<n>.1/24 ── berth server :PORT
 *        └── veth ══ eth0 198.18.<n>.2/24 [netns berth-join-<id>] ── berth join … (agent :10250, pods)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { kubectl } from '../support/kubectl.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';
import { loadKubeconfig } from '../../src/client/kubeconfig-load.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = path.join(REPO, 'bin', 'berth');
const ID = process.pid % 10_000;
const NS = `berth-join-${ID}`;
const HOST_BRIDGE = `bj${ID}`;
const HOST_VETH = `bjv${ID}`;
const OCTET = 100 + (process.pid % 100);
const SERVER_IP = `198.18.${OCTET}.1`;
const NODE_IP = `198.18.${OCTET}.2`;
const NODE = `joined-${ID}`;
const AGENT_PORT = 10250;
/** The joined node's own pod network and services, away from every default and other suite. */
const CLUSTER_CIDR = '10.52.0.0/16';
const POD_CIDR = '10.52.0.0/24';
const SERVICE_CIDR = '10.53.0.0/16';
const POD_BRIDGE = 'bjpods0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function quiet(cmd: string, ...args: string[]): void {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); } catch { /* not there */ }
}

/** `berth <args>` inside the lab namespace; resolves with its exit code and output once it ends. */
function berthInNs(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn('nsenter', [`--net=/run/netns/${NS}`, BERTH, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BERTH_LOG_FORMAT: 'json' } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; if (out.length > 400_000) out = out.slice(-200_000); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** A GET over HTTPS with the given TLS material; status and body. */
function get(url: string, tls: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    https.get({ host: u.hostname, port: u.port, path: u.pathname + u.search, ...tls, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('berth join: a second node by join token, in a network namespace of its own', { concurrency: false }, () => {
  let b: BerthServer;
  let agent: ReturnType<typeof berthInNs> | undefined;
  const agentDir = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-join-agent-'));
  const nodeKubeconfig = path.join(agentDir, 'kubeconfig');
  const k = (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  const asNode = (args: string[]) => kubectl(args, { kubeconfig: nodeKubeconfig, cacheDir: path.join(agentDir, 'kubecache'), timeoutMs: 30_000 });
  const agentArgs = (extra: string[]) => [
    ...extra, '--node-name', NODE, '--data-dir', agentDir, '--listen', `${NODE_IP}:${AGENT_PORT}`,
    '--cluster-cidr', CLUSTER_CIDR, '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--bridge', POD_BRIDGE,
  ];
  const waitFor = waiter({ context: () => `--- agent ---\n${agent?.output().slice(-4000)}\n--- server ---\n${b.logs().slice(-3000)}`, everyMs: 300 });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'joining a node needs root (network namespaces, bridges, cgroups)');
    // Leftovers of a crashed earlier run with this id.
    quiet('ip', 'netns', 'del', NS);
    quiet('ip', 'link', 'del', HOST_BRIDGE);
    sh('ip', 'netns', 'add', NS);
    sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
    sh('ip', 'link', 'add', HOST_BRIDGE, 'type', 'bridge');
    sh('ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', HOST_BRIDGE);
    sh('ip', 'link', 'set', HOST_BRIDGE, 'up');
    sh('ip', 'link', 'add', HOST_VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS);
    sh('ip', 'link', 'set', HOST_VETH, 'master', HOST_BRIDGE);
    sh('ip', 'link', 'set', HOST_VETH, 'up');
    sh('ip', '-n', NS, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
    sh('ip', '-n', NS, 'link', 'set', 'eth0', 'up');
    b = await startBerth({ command: 'server', host: SERVER_IP, extraArgs: ['--service-cidr', SERVICE_CIDR] });
  });

  after(async () => {
    // The pod on the Node no agent runs never finishes terminating by itself: it goes at once.
    if (b) await k(['delete', 'pod', 'elsewhere', '--force', '--grace-period=0', '--ignore-not-found']).catch(() => {});
    if (b) await k(['delete', 'pods', '--all', '--grace-period=1', '--wait=true', '--timeout=60s']).catch(() => {});
    if (agent && agent.child.exitCode === null) {
      agent.child.kill('SIGTERM');
      await Promise.race([agent.exited, sleep(15_000)]);
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
    await b?.cleanup();
    quiet('ip', 'netns', 'del', NS);
    quiet('ip', 'link', 'del', HOST_BRIDGE);
    rmSync(agentDir, { recursive: true, force: true });
  });

  test('a token with a wrong CA hash is refused before anything is sent', async () => {
    const token = readFileSync(path.join(b.dataDir, 'join-token'), 'utf8').trim();
    const wrongPin = token.replace(/^K10([0-9a-f]{64})/, `K10${'0'.repeat(64)}`);
    const run = berthInNs(agentArgs(['join', '--server', b.url, '--token', wrongPin]));
    assert.equal(await run.exited, 1, run.output());
    const theirs = /the server's CA \(sha256:([0-9a-f]{64})\) does not match the join token's \(sha256:0{64}\)/.exec(run.output());
    assert.ok(theirs, run.output());
    assert.equal(`K10${theirs[1]}`, token.slice(0, 67), "the error names the server's real CA hash");
  });

  test('a token with a wrong secret is refused by the server', async () => {
    const token = readFileSync(path.join(b.dataDir, 'join-token'), 'utf8').trim();
    const wrongSecret = token.replace(/\.[a-z0-9]{16}$/, '.0000000000000000');
    const run = berthInNs(agentArgs(['join', '--server', b.url, '--token', wrongSecret]));
    assert.equal(await run.exited, 1, run.output());
    assert.match(run.output(), /the server refused the join token [a-z0-9]{6}\.\*\*\*\*: a wrong secret, or an expired or deleted token/);
  });

  test('berth join with DATA/join-token: node credentials by CSR, the node becomes Ready', async () => {
    agent = berthInNs(agentArgs(['join', '--server', b.url, '--token-file', path.join(b.dataDir, 'join-token')]));
    const node = await waitFor('node Ready', async () => {
      if (agent!.child.exitCode !== null) throw new Error(`berth join exited ${agent!.child.exitCode}`);
      const r = await k(['get', 'node', NODE, '-o', 'json']);
      if (r.code !== 0) return undefined;
      const n = JSON.parse(r.stdout);
      return n.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True' && n;
    }, 120_000);
    assert.equal(node.status.addresses.find((a: any) => a.type === 'InternalIP').address, NODE_IP);
    // Its client certificate came from an approved, issued CSR sent with the bootstrap token.
    const csrs = parseJson<any>(assertOk(await k(['get', 'csr', '-o', 'json']), 'get csr'), 'csrs').items;
    const client = csrs.find((c: any) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet');
    assert.match(client.spec.username, /^system:bootstrap:[a-z0-9]{6}$/);
    assert.ok(client.status.conditions.some((c: any) => c.type === 'Approved' && c.reason === 'AutoApproved'));
    assert.ok(client.status.certificate);
    const table = assertOk(await k(['get', 'csr']), 'get csr table');
    assert.match(table, /kubernetes.io\/kube-apiserver-client-kubelet\s+system:bootstrap:[a-z0-9]{6}\s+<none>\s+Approved,Issued/);
    // The node's kubeconfig is its own identity, in system:nodes.
    const conn = loadKubeconfig(nodeKubeconfig);
    assert.match(execFileSync('openssl', ['x509', '-noout', '-subject'], { input: conn.cert }).toString(), new RegExp(`CN ?= ?system:node:${NODE}`));
    // The stream server's serving certificate, by a kubelet-serving CSR as the node, approved for its address.
    await waitFor('serving certificate issued', async () => {
      const list = parseJson<any>(assertOk(await k(['get', 'csr', '-o', 'json']), 'get csr'), 'csrs').items;
      const serving = list.find((c: any) => c.spec.signerName === 'kubernetes.io/kubelet-serving');
      return serving?.status?.certificate && serving.spec.username === `system:node:${NODE}` && serving;
    });
  });

  test('a pod on the joined node runs; kubectl logs and exec reach it through the API server', async () => {
    assertOk(await k(['create', 'secret', 'generic', 'mine', '--from-literal=word=sesame']), 'secret mine');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hello' },
      spec: {
        nodeName: NODE, terminationGracePeriodSeconds: 1, dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] },
        containers: [{ name: 'c', image: 'host', command: ['sh', '-c', 'echo "hello from $WORD"; exec sleep 3600'], env: [{ name: 'WORD', valueFrom: { secretKeyRef: { name: 'mine', key: 'word' } } }] }],
      },
    })), 'apply hello');
    await waitFor('hello running', async () => {
      const p = JSON.parse(assertOk(await k(['get', 'pod', 'hello', '-o', 'json']), 'get pod'));
      return p.status?.phase === 'Running' && p;
    }, 90_000);
    await waitFor('logs', async () => /hello from sesame/.test((await k(['logs', 'hello'])).stdout));
    const exec = await k(['exec', 'hello', '--', 'sh', '-c', 'echo exec on $(cat /proc/sys/kernel/hostname)']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, /^exec on /);
    const three = await k(['exec', 'hello', '--', 'sh', '-c', 'exit 3']);
    assert.equal(three.code, 3, three.stderr);
  });

  test("the node's credential reads its own pod's Secret, not another node's pod's", async () => {
    assertOk(await k(['create', 'secret', 'generic', 'theirs', '--from-literal=word=nope']), 'secret theirs');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: `other-${ID}` } })), 'other node');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'elsewhere' },
      spec: { nodeName: `other-${ID}`, containers: [{ name: 'c', image: 'host', command: ['true'], env: [{ name: 'W', valueFrom: { secretKeyRef: { name: 'theirs', key: 'word' } } }] }] },
    })), 'pod on the other node');
    const own = assertOk(await asNode(['get', 'secret', 'mine', '-o', 'jsonpath={.data.word}']), 'own secret');
    assert.equal(Buffer.from(own, 'base64').toString(), 'sesame');
    const other = await asNode(['get', 'secret', 'theirs']);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, new RegExp(`secrets "theirs" is forbidden: User "system:node:${NODE}" cannot get resource "secrets" in API group "" in the namespace "default"`));
    const list = await asNode(['get', 'secrets']);
    assert.match(list.stderr, /cannot list resource "secrets"/);
    // NodeRestriction: its own Node only.
    const label = await asNode(['label', 'node', `other-${ID}`, 'stolen=yes']);
    assert.notEqual(label.code, 0);
    assert.match(label.stderr, /forbidden/);
  });

  test("the agent's stream server refuses callers without the API server's certificate", async () => {
    const ca = readFileSync(path.join(b.dataDir, 'pki', 'ca.crt'));
    const url = `https://${NODE_IP}:${AGENT_PORT}/containerLogs/default/hello/c`;
    const anonymous = await get(url, { ca });
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.body).reason, 'Unauthorized');
    // The node's own client certificate is no pass either: it may not use nodes/proxy.
    const conn = loadKubeconfig(nodeKubeconfig);
    const asNodeCert = await get(url, { ca, cert: conn.cert, key: conn.key });
    assert.equal(asNodeCert.status, 403);
    assert.match(JSON.parse(asNodeCert.body).message, new RegExp(`Forbidden \\(user=system:node:${NODE}, verb=get, resource=nodes, subresource=proxy\\)`));
    // The API server's kubelet-client certificate gets in (as kubectl logs did through the API server).
    const kc = { cert: readFileSync(path.join(b.dataDir, 'pki', 'apiserver-kubelet-client.crt')), key: readFileSync(path.join(b.dataDir, 'pki', 'apiserver-kubelet-client.key')) };
    const apiserver = await get(url, { ca, ...kc });
    assert.equal(apiserver.status, 200, apiserver.body);
    assert.match(apiserver.body, /hello from sesame/);
  });

  test("the node's credential was enough for everything the agent did (no 403 in its log)", () => {
    const refused = agent!.output().split('\n').filter((l) => /forbidden|\b403\b/i.test(l));
    assert.deepEqual(refused, []);
  });
});
