/**
 * Test support (run by hand, not by the test suite): regenerates the protobuf fixtures in
 * `fixtures/` by running real `kubectl` commands against a real Berth server through a recording
 * proxy.
 *
 *   node --import tsx src/api/protobuf/capture-fixtures.ts
 *
 * For each case it writes `fixtures/<name>.bin` (the protobuf request body kubectl sent, magic
 * included) and, when kubectl can print the object locally, `fixtures/<name>.json` (what
 * `kubectl … --dry-run=client -o json` prints for the same command): the expected decoding.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const fixturesDir = join(here, 'fixtures');

/** One kubectl invocation to capture. */
interface CaptureCase {
  /** Fixture base name. */
  name: string;
  /** kubectl arguments (no --kubeconfig). */
  args: string[];
  /** Also record `--dry-run=client -o json` output as the expected JSON (default true). */
  expect?: boolean;
}

/** Finds a free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Waits until GET url answers. */
async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} never became ready`);
}

/** Recording reverse proxy: every protobuf request body is appended to `captured`. */
function startProxy(upstreamPort: number, captured: Buffer[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (process.env.CAPTURE_DEBUG) console.error(`${req.method} ${req.url} ${req.headers['content-type'] ?? ''} ${body.length}`);
      if ((req.headers['content-type'] ?? '').includes('protobuf') && body.length > 0) captured.push(body);
      const headers = { ...req.headers };
      delete headers['accept-encoding'];
      const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (err) => { res.writeHead(502); res.end(String(err)); });
      up.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs kubectl (asynchronously: the proxy lives in this process); resolves with its output. */
function kubectl(kubeconfig: string, args: string[], input?: string): Promise<{ out: string; err: string; code: number }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('close', (code) => resolve({ out, err, code: code ?? -1 }));
    child.stdin.end(input ?? '');
  });
}

/** Writes the TLS key pair and binary file the cases reference. */
function makeInputs(dir: string): void {
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=berth.test', '-days', '2',
    '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'blob.bin'), Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x01, 0x02, 0xc3]));
  writeFileSync(join(dir, 'note.txt'), 'hello\nworld\n');
}

/** The capture cases; `dir` holds input files. */
function cases(dir: string): CaptureCase[] {
  const all: CaptureCase[] = [
    { name: 'configmap-literal', args: ['create', 'configmap', 'cm1', '--from-literal=a=b', '--from-literal=greeting=hello world'] },
    { name: 'configmap-files', args: ['create', 'configmap', 'cm2', `--from-file=note=${join(dir, 'note.txt')}`, `--from-file=blob=${join(dir, 'blob.bin')}`, '-n', 'team-a'] },
    { name: 'secret-generic', args: ['create', 'secret', 'generic', 's1', '--from-literal=user=admin', '--from-literal=password=s3cr3t', '--type=Opaque'] },
    { name: 'secret-docker-registry', args: ['create', 'secret', 'docker-registry', 'reg1', '--docker-server=registry.example.com', '--docker-username=u', '--docker-password=p', '--docker-email=u@example.com'] },
    { name: 'secret-tls', args: ['create', 'secret', 'tls', 'tls1', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`] },
    { name: 'namespace', args: ['create', 'namespace', 'ns1'] },
    { name: 'serviceaccount', args: ['create', 'serviceaccount', 'sa1'] },
    { name: 'deployment-simple', args: ['create', 'deployment', 'd1', '--image=busybox'] },
    { name: 'deployment-full', args: ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=8080', '--', 'nginx', '-g', 'daemon off;'] },
    { name: 'job', args: ['create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi'] },
    { name: 'job-from-cronjob', args: ['create', 'job', 'j2', '--from=cronjob/cjsrc'] },
    { name: 'cronjob', args: ['create', 'cronjob', 'cj1', '--image=busybox', '--schedule=*/1 * * * *', '--restart=OnFailure', '--', 'date'] },
    { name: 'service-clusterip', args: ['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080', '--tcp=443:8443'] },
    { name: 'service-headless', args: ['create', 'service', 'clusterip', 'svc2', '--clusterip=None'] },
    { name: 'service-nodeport', args: ['create', 'service', 'nodeport', 'np1', '--tcp=80:http', '--node-port=30080'] },
    { name: 'service-loadbalancer', args: ['create', 'service', 'loadbalancer', 'lb1', '--tcp=5678:8080'] },
    { name: 'service-externalname', args: ['create', 'service', 'externalname', 'ext1', '--external-name=example.com'] },
    { name: 'pdb', args: ['create', 'poddisruptionbudget', 'pdb1', '--selector=app=web', '--min-available=50%'] },
    // `kubectl drain` would be the Eviction case, but kubectl 1.32 posts evictions as JSON (checked
    // with CAPTURE_DEBUG=1); decode.test.ts covers Eviction with a synthetic body instead.
  ];
  const only = process.env.CAPTURE_ONLY;
  return only ? all.filter((c) => c.name === only) : all;
}

/** Objects the cases need to exist on the server (created as JSON). */
const seedObjects = [
  {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cjsrc', namespace: 'default' },
    spec: {
      schedule: '0 * * * *',
      jobTemplate: { metadata: { labels: { team: 'a' } }, spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', args: ['true'] }] } } } },
    },
  },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
];

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-pb-capture-'));
  mkdirSync(fixturesDir, { recursive: true });
  makeInputs(work);
  const upstreamPort = await freePort();
  const berth = spawn(join(repoRoot, 'bin', 'berth'), ['server', '--data-dir', join(work, 'data'), '--listen', `127.0.0.1:${upstreamPort}`], { stdio: 'ignore' });
  const captured: Buffer[] = [];
  const proxy = await startProxy(upstreamPort, captured);
  try {
    await waitReady(`http://127.0.0.1:${upstreamPort}/readyz`);
    const proxyPort = (proxy.address() as net.AddressInfo).port;
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config',
      `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${proxyPort}"}}]`,
      'users: [{name: u, user: {}}]',
      'contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]',
      'current-context: c', '',
    ].join('\n'));
    for (const obj of seedObjects) {
      const r = await kubectl(kubeconfig, ['create', '-f', '-'], JSON.stringify(obj));
      if (r.code !== 0) console.error(`seed ${obj.kind}: ${r.err.trim()}`);
    }
    captured.length = 0;
    for (const c of cases(work)) {
      const before = captured.length;
      const r = await kubectl(kubeconfig, c.args);
      const bodies = captured.slice(before);
      if (bodies.length === 0) {
        console.error(`${c.name}: no protobuf body captured (exit ${r.code}: ${r.err.trim()})`);
        continue;
      }
      writeFileSync(join(fixturesDir, `${c.name}.bin`), bodies[bodies.length - 1]);
      let note = `${bodies[bodies.length - 1].length} bytes`;
      if (c.expect !== false) {
        const e = await kubectl(kubeconfig, [...c.args.slice(0, c.args.indexOf('--') < 0 ? undefined : c.args.indexOf('--')), '--dry-run=client', '-o', 'json',
          ...(c.args.includes('--') ? c.args.slice(c.args.indexOf('--')) : [])]);
        if (e.code === 0) writeFileSync(join(fixturesDir, `${c.name}.json`), e.out);
        else note += `; dry-run failed: ${e.err.trim()}`;
      }
      console.log(`${c.name}: ${note}`);
    }
  } finally {
    proxy.close();
    berth.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
