/**
 * End to end: `kubectl port-forward pod/X :PORT` to an HTTP server that listens on 127.0.0.1
 * inside a process pod (so only a connection made in the pod's network namespace reaches it),
 * once over the websocket tunnel (kubectl's default) and once over plain SPDY
 * (`KUBECTL_PORT_FORWARD_WEBSOCKETS=false`). Runs inside a suite that has `berth up` running; see
 * test/e2e/node-agent.test.ts:
 *
 *   test('kubectl port-forward …', () => portForwardCase({ kubectl: k, kubeconfig: b.kubeconfig,
 *     cacheDir: b.cacheDir, manifest: pod, track: getPod }));
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { findKubectl, type KubectlResult } from '../support/kubectl.ts';

export interface PortForwardCaseContext {
  /** kubectl against the cluster; `input` goes to its stdin. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  kubeconfig: string;
  cacheDir: string;
  /** A pod manifest (JSON) with one container `c` built from `container` (the suite's labels, DNS…). */
  manifest(name: string, container: Record<string, unknown>): string;
  /** Called once the pod exists (e.g. to record its uid for the suite's leftover checks). */
  track?(name: string): Promise<unknown>;
}

const POD = 'pf-web';
const PORT = 8081;
/** Answers `pf-ok <path>`; bound to the pod's loopback only. */
const SERVER = [
  'import http.server as h',
  'class H(h.BaseHTTPRequestHandler):',
  '    def do_GET(self):',
  "        b = ('pf-ok ' + self.path).encode()",
  '        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)',
  '    def log_message(self, *a): pass',
  `h.ThreadingHTTPServer(('127.0.0.1', ${PORT}), H).serve_forever()`,
].join('\n');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/** Runs `kubectl port-forward`, returns the local port it printed and a way to stop it. */
async function startPortForward(ctx: PortForwardCaseContext, env: Record<string, string>) {
  const bin = await findKubectl();
  const child = spawn(bin, [`--kubeconfig=${ctx.kubeconfig}`, `--cache-dir=${ctx.cacheDir}`, 'port-forward', `pod/${POD}`, `:${PORT}`, '-v=6'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: ctx.kubeconfig, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const stop = async () => { child.kill('SIGTERM'); await Promise.race([exited, sleep(5000)]); child.kill('SIGKILL'); };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(out);
    if (m) {
      assert.equal(Number(m[2]), PORT);
      return { localPort: Number(m[1]), stop, logs: () => `${out}\n${err}` };
    }
    const code = await Promise.race([exited, sleep(100).then(() => 'running' as const)]);
    if (code !== 'running' || Date.now() > deadline) {
      await stop();
      throw new Error(`kubectl port-forward did not start (exit ${code}):\n${out}\n${err}`);
    }
  }
}

export async function portForwardCase(ctx: PortForwardCaseContext): Promise<void> {
  const ok = (r: KubectlResult, what: string) => { assert.equal(r.code, 0, `${what}: ${r.stderr}`); return r.stdout; };
  ok(await ctx.kubectl(['apply', '-f', '-'], ctx.manifest(POD, { command: ['python3', '-c', SERVER] })), `apply ${POD}`);
  try {
    await ctx.track?.(POD);
    ok(await ctx.kubectl(['wait', '--for=condition=Ready', `pod/${POD}`, '--timeout=60s']), `${POD} Ready`);
    const modes: { name: string; env: Record<string, string>; method: string }[] = [
      { name: 'websocket tunnel', env: {}, method: 'GET' },
      { name: 'SPDY', env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, method: 'POST' },
    ];
    for (const mode of modes) {
      const pf = await startPortForward(ctx, mode.env);
      try {
        // The server may still be binding right after Ready: retry the first request briefly.
        let first: { status: number; body: string } | undefined;
        for (let i = 0; i < 20 && !first; i++) {
          first = await get(pf.localPort, '/first').catch(async () => { await sleep(500); return undefined; });
        }
        assert.deepEqual(first, { status: 200, body: 'pf-ok /first' }, `${mode.name}: first request\n${pf.logs()}`);
        const many = await Promise.all(Array.from({ length: 5 }, (_, i) => get(pf.localPort, `/c${i}`)));
        assert.deepEqual(many.map((r) => r.body), [0, 1, 2, 3, 4].map((i) => `pf-ok /c${i}`), `${mode.name}: concurrent requests`);
        // kubectl -v=6 logs the upgrade request: GET for the websocket tunnel, POST for SPDY.
        assert.match(pf.logs(), new RegExp(`${mode.method} https?://\\S+/pods/${POD}/portforward\\S* 101`), `${mode.name}: transport used\n${pf.logs()}`);
      } finally {
        await pf.stop();
      }
    }
  } finally {
    await ctx.kubectl(['delete', 'pod', POD, '--grace-period=1', '--wait=false']);
  }
}
