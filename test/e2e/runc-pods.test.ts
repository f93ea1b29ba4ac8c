/**
 * End to end: OCI containers on `bin/berth up` — a busybox image built with umoci, pushed with
 * skopeo to Debian's docker-registry on loopback (plain, and behind htpasswd basic auth), pulled by
 * the agent and run by real runc; imports from an OCI layout and a docker-archive; runc and process
 * pods side by side, a mixed pod, runc-backed Services; logs, exec and port-forward through real
 * kubectl. Needs root.
 *
 * Networks: pods 10.56.0.0/24, services 10.57.0.0/16, bridge `berthoci0`, all removed at the end.
 * DNS: names outside the cluster go to 127.0.0.1:9 (nothing answers); no test asks for one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxLayout } from '../../src/agent/runtime/runc/runc.fixture.ts';
import { push, sh } from '../../src/agent/images/test-image.fixture.ts';
import { startRegistry, type TestRegistry } from '../../src/agent/images/test-registry.fixture.ts';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { startHtpasswdRegistry, type AuthRegistry } from '../support/htpasswd-registry.ts';
import { assertFails, assertOk, parseJson } from '../support/kubectl-assert.ts';
import { findKubectl } from '../support/kubectl.ts';
import { waitFor as waitUntil } from '../support/wait.ts';

const BRIDGE = 'berthoci0';
const NODE = 'oci-node';
const BERTH = join(import.meta.dirname, '..', '..', 'bin', 'berth');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OCI containers with runc on berth up', { concurrency: false }, () => {
  let b: BerthServer;
  let work: string;
  let reg: TestRegistry;
  let authReg: AuthRegistry;
  let image: string;
  /** uid → name of every pod this suite created: the leftover checks look for exactly these. */
  const uids = new Map<string, string>();
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 60_000) => waitUntil(what, fn, ms, () => b.logs().slice(-3000));
  const getPod = async (name: string) => {
    const pod = parseJson<any>(assertOk(await k(['get', 'pod', name, '-o', 'json']), `get ${name}`), name);
    uids.set(pod.metadata.uid, name);
    return pod;
  };
  const apply = async (obj: object) => assertOk(await k(['apply', '-f', '-'], JSON.stringify(obj)), 'apply');
  /** A pod manifest: runc by default; `containers` get `image` unless they name one. */
  const pod = (name: string, containers: Record<string, unknown>[], spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta },
    spec: { runtimeClassName: 'runc', terminationGracePeriodSeconds: 2, containers: containers.map((c) => ({ image, ...c })), ...spec },
  });
  const waitPhase = (name: string, phase: string) => waitFor(`${name} ${phase}`, async () => ((await getPod(name)).status.phase === phase ? getPod(name) : undefined));
  const waitReady = (name: string) => waitFor(`${name} Ready`, async () => {
    const p = await getPod(name);
    return p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
  });
  const httpGet = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
  /**
   * An HTTP GET from inside a runc pod with busybox `nc`: Debian's static busybox `wget` crashes
   * (SIGSEGV in static glibc's NSS lookups), `nc` does not; the body, or '' on failure.
   * (Process pods use the host's curl.)
   */
  const ncGet = async (podName: string, host: string, port: number, path = '/') => {
    const r = await k(['exec', podName, '--', 'sh', '-c', `printf 'GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n' | nc -w 3 ${host} ${port}`]);
    const at = r.stdout.indexOf('\r\n\r\n');
    return r.code === 0 && r.stdout.startsWith('HTTP/1.') && at > 0 ? r.stdout.slice(at + 4) : '';
  };

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the runc tests need root (runc, overlayfs, network namespaces, cgroups)');
    work = mkdtempSync(join(tmpdir(), 'berth-e2e-oci-'));
    const layout = await buildBusyboxLayout(work);
    reg = await startRegistry(join(work, 'registry'));
    await push(layout, 'v1', reg.host, 'e2e/busybox');
    image = `${reg.host}/e2e/busybox:v1`;
    authReg = await startHtpasswdRegistry(join(work, 'auth-registry'), 'alice', 's3cret');
    await sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', 'alice:s3cret', `oci:${layout}:v1`, `docker://${authReg.host}/private/busybox:v1`]);
    await sh('skopeo', ['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${join(work, 'busybox.tar')}:archive.local/busybox:v2`]);
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', '10.56.0.0/16', '--pod-cidr', '10.56.0.0/24', '--service-cidr', '10.57.0.0/16', '--bridge', BRIDGE,
        '--node-name', NODE, '--dns-upstream', '127.0.0.1:9'],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
  });

  after(async () => {
    if (b) {
      await k(['delete', 'deployments,pods,services', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    await reg?.stop();
    await authReg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null; ip route del unreachable 10.56.0.0/16 2>/dev/null; ip route del 10.57.0.0/16 2>/dev/null; `
      + `nft delete table inet berth-egress-${BRIDGE} 2>/dev/null; nft delete table inet berth-proxy-${BRIDGE} 2>/dev/null; true`]);
  });

  test('a pod from a registry over plain HTTP is pulled, becomes Ready on its HTTP probe and answers on its pod IP', async () => {
    await apply(pod('web', [{
      name: 'web', imagePullPolicy: 'Always', command: ['httpd', '-f', '-p', '8080', '-h', '/srv'],
      readinessProbe: { httpGet: { path: '/hello.txt', port: 8080 }, periodSeconds: 1 },
    }]));
    const p = await waitReady('web');
    assert.match(p.status.containerStatuses[0].imageID, new RegExp(`^${reg.host}/e2e/busybox@sha256:[0-9a-f]{64}$`));
    assert.match(p.status.containerStatuses[0].containerID, /^runc:\/\//);
    assert.equal(await httpGet(`http://${p.status.podIP}:8080/hello.txt`), 'hello from the image\n');
    const events = assertOk(await k(['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']), 'events');
    assert.match(events, /Pulling: Pulling image/);
    assert.match(events, /Pulled: Successfully pulled image ".*" in [\d.]+s .*Image size: \d+ bytes\./);
    // The image's User (app, uid 1000, with its supplementary group) and WorkingDir apply.
    assert.equal(assertOk(await k(['exec', 'web', '--', 'sh', '-c', 'echo $(id -u) $(id -G) $(pwd)']), 'exec id').trim(), '1000 1000 2000 /srv');
    // The container was created while the pod's network was set up (runc create ∥ CNI ADD), and
    // its process started after: at its first instruction eth0 has routes and /etc/hosts its IP.
    await apply(pod('early', [{ name: 'c', command: ['sh', '-c', 'grep -c eth0 /proc/net/route; cat /etc/hosts'] }], { restartPolicy: 'Never' }));
    const early = await waitPhase('early', 'Succeeded');
    const out = assertOk(await k(['logs', 'early']), 'logs early');
    assert.ok(Number(out.split('\n')[0]) >= 1, `routes over eth0 at start: ${out}`);
    assert.match(out, new RegExp(`^${early.status.podIP.replace(/\./g, '\\.')}\tearly$`, 'm'), 'the pod IP line in /etc/hosts');
    await k(['delete', 'pod', 'early', '--wait=false']);
  });

  test('kubectl logs -f, attach, exec -i, exec -it and port-forward reach a runc container', async () => {
    await apply(pod('talker', [{ name: 'c', command: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done'] }]));
    await waitPhase('talker', 'Running');
    const kubectl = await findKubectl();
    const follow = spawn(kubectl, [`--kubeconfig=${b.kubeconfig}`, `--cache-dir=${b.cacheDir}`, 'logs', '-f', 'talker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.on('data', (d: Buffer) => (followed += d));
    try {
      await waitFor('logs -f streams new lines', async () => /tick 1\d/.test(followed), 30_000);
    } finally {
      follow.kill();
    }
    // attach: the main process's output from now on.
    const attach = spawn(kubectl, [`--kubeconfig=${b.kubeconfig}`, `--cache-dir=${b.cacheDir}`, 'attach', 'talker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let attached = '';
    attach.stdout.on('data', (d: Buffer) => (attached += d));
    attach.stderr.on('data', (d: Buffer) => (attached += d));
    try {
      await waitFor('kubectl attach streams output', async () => (attached.match(/tick \d+\n/g) ?? []).length >= 3, 30_000);
    } finally {
      attach.kill();
    }
    const firstTick = Number(/tick (\d+)/.exec(attached)![1]);
    assert.ok(firstTick > 0, `attach starts at the present, not at the first line: ${attached.slice(0, 200)}`);
    assertFails(await k(['attach', '-i', 'talker']), 'attach -i', /was not started with stdin: true/);
    // attach -i: a container with stdin: true reads what the client sends (kubectl run -i's path).
    await apply(pod('reader', [{ name: 'c', stdin: true, command: ['sh', '-c', 'read a; echo got:$a; read b; echo got:$b'] }], { restartPolicy: 'Never' }));
    await waitPhase('reader', 'Running');
    const attachedIn = await k(['attach', '-i', 'reader'], 'one\ntwo\n');
    assert.match(attachedIn.stdout, /got:one\ngot:two\n/, attachedIn.stderr);
    await waitPhase('reader', 'Succeeded');
    assert.equal(assertOk(await k(['exec', '-i', 'talker', '--', 'cat'], 'through stdin\n'), 'exec -i'), 'through stdin\n');
    const code = (await k(['exec', 'talker', '--', 'sh', '-c', 'exit 3'])).code;
    assert.equal(code, 3, 'exec passes the exit code');
    const tty = execFileSync('script', ['-qec', `${kubectl} --kubeconfig ${b.kubeconfig} --cache-dir ${b.cacheDir} exec -it talker -- sh -c 'tty; echo $((6*7))'`, '/dev/null'], { timeout: 30_000 }).toString();
    assert.match(tty, /\/dev\/pts\/\d+/);
    assert.match(tty, /42/);
    // port-forward to the web pod's httpd (websocket tunnel, kubectl's default).
    const pf = spawn(kubectl, [`--kubeconfig=${b.kubeconfig}`, `--cache-dir=${b.cacheDir}`, 'port-forward', 'pod/web', ':8080'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    pf.stdout.on('data', (d: Buffer) => (out += d));
    pf.stderr.on('data', (d: Buffer) => (out += d));
    try {
      const port = await waitFor('port-forward listening', async () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1], 30_000);
      assert.equal(await httpGet(`http://127.0.0.1:${port}/hello.txt`), 'hello from the image\n');
    } finally {
      pf.kill();
    }
  });

  test('the same image imported from an OCI layout and from a docker-archive runs with imagePullPolicy Never', async () => {
    const layout = join(work, 'oci');
    execFileSync(BERTH, ['image', 'import', '--data-dir', b.dataDir, '--repository', 'layout.local/busybox', layout]);
    execFileSync(BERTH, ['image', 'import', '--data-dir', b.dataDir, join(work, 'busybox.tar')]);
    const ls = execFileSync(BERTH, ['image', 'ls', '--data-dir', b.dataDir]).toString();
    assert.match(ls, /layout\.local\/busybox\s+v1/);
    assert.match(ls, /archive\.local\/busybox\s+v2/);
    for (const [name, ref] of [['from-layout', 'layout.local/busybox:v1'], ['from-archive', 'archive.local/busybox:v2']]) {
      await apply(pod(name, [{ name: 'c', image: ref, imagePullPolicy: 'Never', command: ['cat', '/srv/hello.txt'] }], { restartPolicy: 'Never' }));
    }
    for (const name of ['from-layout', 'from-archive']) {
      await waitPhase(name, 'Succeeded');
      assert.equal(assertOk(await k(['logs', name]), `logs ${name}`), 'hello from the image\n');
    }
    await apply(pod('never-missing', [{ name: 'c', image: 'layout.local/busybox:absent', imagePullPolicy: 'Never' }]));
    const waiting = await waitFor('ErrImageNeverPull', async () => {
      const w = (await getPod('never-missing')).status.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ErrImageNeverPull' ? w : undefined;
    });
    assert.match(waiting.message, /is not present with pull policy of Never/);
  });

  test('a basic-auth registry: an imagePullSecret pulls; without one, ErrImagePull then ImagePullBackOff with the registry\'s words', async () => {
    const ref = `${authReg.host}/private/busybox:v1`;
    assertOk(await k(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${authReg.host}`, '--docker-username=alice', '--docker-password=s3cret']), 'secret');
    await apply(pod('private-ok', [{ name: 'c', image: ref, command: ['cat', '/srv/hello.txt'] }], { restartPolicy: 'Never', imagePullSecrets: [{ name: 'regcred' }] }));
    // Always: with IfNotPresent the image private-ok pulled would be used without credentials (as in Kubernetes).
    await apply(pod('private-denied', [{ name: 'c', image: ref, imagePullPolicy: 'Always', command: ['cat', '/srv/hello.txt'] }], { restartPolicy: 'Never' }));
    await waitPhase('private-ok', 'Succeeded');
    const seen = new Map<string, string>();
    await waitFor('ErrImagePull and ImagePullBackOff', async () => {
      const w = (await getPod('private-denied')).status.containerStatuses?.[0]?.state?.waiting;
      if (w?.reason) seen.set(w.reason, w.message);
      return seen.has('ErrImagePull') && seen.has('ImagePullBackOff');
    }, 30_000);
    assert.match(seen.get('ErrImagePull')!, /unauthorized|authentication required|401/i);
    assert.match(seen.get('ImagePullBackOff')!, /^Back-off pulling image ".*": ErrImagePull: .*(unauthorized|authentication required|401)/i);
    // An image the registry does not have: its own message ("manifest unknown"), the same states.
    await apply(pod('unknown-image', [{ name: 'c', image: `${reg.host}/e2e/nope:v1` }]));
    const w = await waitFor('ErrImagePull for an unknown image', async () => {
      const s = (await getPod('unknown-image')).status.containerStatuses?.[0]?.state?.waiting;
      return s?.reason === 'ErrImagePull' || s?.reason === 'ImagePullBackOff' ? s : undefined;
    });
    assert.match(w.message, /manifest unknown|not found/i);
  });

  test('a runc pod and a process pod reach each other by pod IP; a mixed pod shares localhost', async () => {
    await apply(pod('proc-web', [{
      name: 'c', image: 'host', command: ['sh', '-c', 'echo from-process > /www/index.html && exec busybox httpd -f -p 8080 -h /www'],
      volumeMounts: [{ name: 'www', mountPath: '/www' }],
    }], { runtimeClassName: 'process', volumes: [{ name: 'www', emptyDir: {} }] }, { labels: { app: 'proc-web' } }));
    const proc = await waitPhase('proc-web', 'Running');
    const web = await getPod('web');
    const fromRunc = await waitFor('runc → process', () => ncGet('web', proc.status.podIP, 8080));
    assert.equal(fromRunc, 'from-process\n');
    const fromProcess = await waitFor('process → runc', async () => (await k(['exec', 'proc-web', '--', 'curl', '-s', '-m', '3', `http://${web.status.podIP}:8080/hello.txt`])).stdout);
    assert.equal(fromProcess, 'hello from the image\n');
    await apply(pod('mixed', [
      { name: 'web', command: ['httpd', '-f', '-p', '8080', '-h', '/srv'] },
      { name: 'side', image: 'host', command: ['sh', '-c', 'until curl -sf -m 2 http://127.0.0.1:8080/hello.txt; do sleep 0.2; done; exec sleep 3600'] },
    ], {}, { annotations: { 'runtime.berth.dev/side': 'process' } }));
    await waitFor('the sidecar read the runc container over localhost', async () => (await k(['logs', 'mixed', '-c', 'side'])).stdout === 'hello from the image\n');
    const mixed = await getPod('mixed');
    const ids = Object.fromEntries(mixed.status.containerStatuses.map((s: any) => [s.name, s.containerID.split('://')[0]]));
    assert.deepEqual(ids, { web: 'runc', side: 'process' });
    const bad = pod('bad-runtime', [{ name: 'c' }], {}, { annotations: { 'runtime.berth.dev/c': 'docker' } });
    assertFails(await k(['apply', '-f', '-'], JSON.stringify(bad)), 'unknown runtime', /metadata\.annotations\[runtime\.berth\.dev\/c\]: Unsupported value: "docker": supported values: "process", "runc"/);
  });

  test('a Deployment of runc pods behind a Service answers a process pod by name; a runc pod reaches a process-backed Service', async () => {
    await apply({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'rweb' },
      spec: {
        replicas: 3, selector: { matchLabels: { app: 'rweb' } },
        template: {
          metadata: { labels: { app: 'rweb' } },
          spec: {
            runtimeClassName: 'runc', terminationGracePeriodSeconds: 1, volumes: [{ name: 'www', emptyDir: {} }],
            containers: [{
              name: 'web', image, command: ['sh', '-c', 'echo "$POD_NAME" > /www/index.html && exec httpd -f -p 8080 -h /www'],
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              volumeMounts: [{ name: 'www', mountPath: '/www' }], readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
            }],
          },
        },
      },
    });
    assertOk(await k(['expose', 'deployment', 'rweb', '--port=80', '--target-port=8080']), 'expose rweb');
    assertOk(await k(['expose', 'pod', 'proc-web', '--name=pweb', '--port=80', '--target-port=8080']), 'expose proc-web');
    assertOk(await k(['rollout', 'status', 'deployment/rweb', '--timeout=90s']), 'rollout');
    const script = 'for i in $(seq 30); do curl -sf -m 2 http://rweb || echo FAIL; done';
    let last = '';
    const answers = (await waitFor('rweb answers by name', async () => {
      last = assertOk(await k(['exec', 'proc-web', '--', 'sh', '-c', script]), 'requests');
      return last.includes('FAIL') ? undefined : last;
    }).catch((err) => { throw new Error(`${(err as Error).message}\nlast answers: ${last}`); })).trim().split('\n');
    assert.equal(answers.length, 30);
    assert.ok(answers.every((a) => a.startsWith('rweb-')), answers.join(' '));
    assert.ok(new Set(answers).size >= 2, `30 requests reached ${new Set(answers).size} pod(s)`);
    const reverse = await waitFor('a runc pod reaches pweb by name', () => ncGet('web', 'pweb', 80));
    assert.equal(reverse, 'from-process\n');
  });

  test('stock manifests get containers: kubectl create deployment with an image and no RuntimeClass runs runc; image host stays a process', async () => {
    assertOk(await k(['create', 'deployment', 'stock', `--image=${image}`, '--', 'httpd', '-f', '-p', '8080', '-h', '/srv']), 'create deployment');
    assertOk(await k(['rollout', 'status', 'deployment/stock', '--timeout=90s']), 'rollout');
    const stock = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=stock', '-o', 'json']), 'stock pods'), 'stock').items[0];
    assert.equal(stock.spec.runtimeClassName, undefined, 'the manifest names no RuntimeClass');
    assert.match(stock.status.containerStatuses[0].containerID, /^runc:\/\//);
    assert.equal(await waitFor('the stock pod serves its image\'s file', () => ncGet(stock.metadata.name, stock.status.podIP, 8080, '/hello.txt')), 'hello from the image\n');
    await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'classless-host' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }] } });
    const host = await waitPhase('classless-host', 'Running');
    assert.match(host.status.containerStatuses[0].containerID, /^process:\/\//);
  });

  test('a runc container over its memory limit is OOMKilled', async () => {
    await apply(pod('oom', [{
      name: 'c', command: ['sh', '-c', 'head -c 300m /dev/zero | tail'], resources: { limits: { memory: '32Mi' } },
    }], { restartPolicy: 'Never' }));
    const p = await waitPhase('oom', 'Failed');
    assert.equal(p.status.containerStatuses[0].state.terminated.reason, 'OOMKilled');
  });

  test('restarting berth up re-adopts running runc containers (startedAt and restartCount unchanged)', async () => {
    const before = (await getPod('web')).status.containerStatuses[0];
    await b.restart();
    const after = await waitFor('web status after restart', async () => {
      const s = (await getPod('web')).status.containerStatuses?.[0];
      return s?.ready ? s : undefined;
    });
    assert.equal(after.state.running.startedAt, before.state.running.startedAt);
    assert.equal(after.restartCount, before.restartCount);
    assert.equal(after.containerID, before.containerID);
    assert.equal(await httpGet(`http://${(await getPod('web')).status.podIP}:8080/hello.txt`), 'hello from the image\n');
  });

  test('deleting every pod leaves no runc container, rootfs mount, cgroup, network namespace or veth behind', async () => {
    // Every pod of the suite, the Deployment's included, is checked for leftovers.
    for (const p of parseJson<any>(assertOk(await k(['get', 'pods', '-o', 'json']), 'pods'), 'pods').items) uids.set(p.metadata.uid, p.metadata.name);
    assertOk(await k(['delete', 'deployments,pods', '--all', '--grace-period=1', '--wait=true']), 'delete');
    await waitFor('pods gone', async () => (await k(['get', 'pods', '-o', 'name'])).stdout.trim() === '');
    await sleep(500);
    const runcRoot = join(b.dataDir, 'agent', 'runtime', 'runc', 'runc-root');
    assert.equal(execFileSync('runc', ['--root', runcRoot, 'list', '-q']).toString().trim(), '', 'no runc container is left');
    const containers = join(b.dataDir, 'agent', 'runtime', 'runc', 'containers');
    assert.deepEqual(existsSync(containers) ? readdirSync(containers) : [], [], 'no container bundle is left');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(b.dataDir), 'no rootfs or volume mount is left');
    const roots = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2').map((f) => f[1]);
    for (const root of roots) {
      const dir = join(root, 'berth');
      const left = existsSync(dir) ? readdirSync(dir).filter((d) => uids.has(d.replace(/^pod-/, ''))).map((d) => `${d} (${uids.get(d.replace(/^pod-/, ''))})`) : [];
      assert.deepEqual(left, [], `no pod cgroup is left under ${dir}`);
    }
    assert.ok(uids.size >= 10, 'the suite saw its pods');
    const netns = execFileSync('ip', ['netns', 'list']).toString();
    for (const uid of uids.keys()) assert.ok(!netns.includes(`berth-${uid.replace(/-/g, '').slice(0, 16)}`), `no network namespace is left for ${uid}`);
    assert.equal(execFileSync('ip', ['link', 'show', 'master', BRIDGE]).toString().trim(), '', 'no veth is left on the bridge');
  });
});
