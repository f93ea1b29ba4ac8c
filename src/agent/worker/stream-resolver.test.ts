/**
 * The stream resolver over a fake worker table: which instance answers (not on this node → 404,
 * not running → 400), logs of the current and previous instance, exec and attach through the
 * instance's driver (stdin only with `stdin: true`), and where port-forward connects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { KubeObject } from '../../apis/object.ts';
import { ApiError } from '../../errors/index.ts';
import type { ExecOptions, ExitResult, RuntimeDriver } from '../runtime/driver.ts';
import { LogFileWriter } from '../streams/log-file.ts';
import type { Instance } from './instance.ts';
import { NETNS_DIR, netnsName, netnsPath } from '../network/netns.ts';
import { WorkerStreamResolver } from './stream-resolver.ts';
import { WorkerTable, type TableWorker } from './worker-table.ts';

/** A driver whose container exits when the test says so; exec echoes its argv. */
function fakeDriver() {
  let exit!: (r: ExitResult) => void;
  const exited = new Promise<ExitResult>((r) => (exit = r));
  const calls: string[] = [];
  const driver = {
    name: 'fake',
    exec: async (id: string, o: ExecOptions) => { calls.push(`exec ${id} ${o.argv.join(' ')}`); return 7; },
    wait: () => exited,
    stdinPath: (id: string) => `/state/${id}/stdin`,
    releaseStdin: (id: string) => calls.push(`release ${id}`),
    resize: (id: string, s: { width: number }) => calls.push(`resize ${id} ${s.width}`),
  } as unknown as RuntimeDriver;
  return { driver, calls, exit: () => exit({ exitCode: 0, oomKilled: false, finishedAt: new Date() }) };
}

let pods = 0;
function worker(name: string, instances: Partial<Instance>[], spec: Record<string, unknown> = {}, logDir = '/nowhere'): TableWorker {
  const uid = `0b5c5a8e-0000-4000-8000-${String(++pods).padStart(12, '0')}`;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { containers: instances.map((i) => ({ name: i.name })), ...spec } } as unknown as KubeObject;
  return {
    uid, pod, done: new Promise(() => {}), update() {}, remove() {}, schedule() {},
    instance: (c) => instances.find((i) => i.name === c) as Instance | undefined,
    logPath: (c, previous) => {
      const i = instances.find((x) => x.name === c);
      if (!i?.everStarted) return undefined;
      const n = previous ? i.restartCount! - 1 : i.restartCount!;
      return n < 0 ? undefined : join(logDir, `${c}-${n}.log`);
    },
  };
}

const status = async (p: Promise<unknown>): Promise<number> => {
  try { await p; return 200; } catch (err) { assert.ok(err instanceof ApiError, String(err)); return err.http; }
};

test('logs: the current or previous instance\'s file; 404 off this node, 400 before a start or without a previous one', async () => {
  const table = new WorkerTable();
  table.add(worker('web', [{ name: 'app', everStarted: true, restartCount: 2 }, { name: 'side', everStarted: false, restartCount: 0 }]));
  table.add(worker('new', [{ name: 'app', everStarted: true, restartCount: 0 }]));
  const r = new WorkerStreamResolver(table);
  assert.equal(await r.logPath('default', 'web', 'app', false), '/nowhere/app-2.log');
  assert.equal(await r.logPath('default', 'web', 'app', true), '/nowhere/app-1.log');
  assert.equal(await status(r.logPath('other', 'web', 'app', false)), 404);
  await assert.rejects(r.logPath('default', 'web', 'side', false), /container "side" in pod "web" is waiting to start: ContainerCreating/);
  await assert.rejects(r.logPath('default', 'new', 'app', true), /previous terminated container "app" in pod "new" not found/);
});

test('exec goes to the running instance\'s driver; a container that is not running is a 400', async () => {
  const { driver, calls } = fakeDriver();
  const table = new WorkerTable();
  table.add(worker('web', [{ name: 'app', running: true, driver, id: 'c-1' }, { name: 'done', running: false, driver, id: 'c-0' }]));
  const r = new WorkerStreamResolver(table);
  assert.equal(await r.exec('default', 'web', 'app', { argv: ['ls', '/'], tty: false }), 7);
  assert.deepEqual(calls, ['exec c-1 ls /']);
  await assert.rejects(r.exec('default', 'web', 'done', { argv: ['ls'], tty: false }), /container done is not running in pod web/);
  assert.equal(await status(r.exec('default', 'gone', 'app', { argv: ['ls'], tty: false })), 400);
});

test('attach: output from now on until the instance exits; stdin only with stdin: true, stdinOnce releases the hold', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-resolver-'));
  try {
    const { driver, calls, exit } = fakeDriver();
    const table = new WorkerTable();
    table.add(worker('web', [
      { name: 'app', running: true, driver, id: 'c-1', everStarted: true, restartCount: 0, spec: { name: 'app', stdin: true, stdinOnce: true } },
      { name: 'plain', running: true, driver, id: 'c-2', everStarted: true, restartCount: 0, spec: { name: 'plain', tty: true } },
    ], {}, dir));
    const r = new WorkerStreamResolver(table);
    await assert.rejects(r.attach('default', 'web', 'plain', { stdin: true, tty: false }), /was not started with stdin: true/);
    const log = new LogFileWriter(join(dir, 'plain-0.log'));
    log.write('stdout', 'before attach\n');
    const stream = await r.attach('default', 'web', 'plain', { stdin: false, tty: true });
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const ac = new AbortController();
    let resize!: (s: { width: number; height: number }) => void;
    const done = stream({ stdout: out, signal: ac.signal, onResize: (l) => (resize = l) });
    resize({ width: 120, height: 40 });
    await new Promise((res) => setTimeout(res, 300));
    log.write('stdout', 'after attach\n');
    await new Promise((res) => setTimeout(res, 500));
    exit();
    await done;
    assert.equal(text, 'after attach\n');
    assert.deepEqual(calls, ['resize c-2 120']);
    // stdin: true with stdinOnce hands the FIFO over (opening it fails here: no such FIFO, which attach survives).
    await r.attach('default', 'web', 'app', { stdin: true, tty: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('port-forward: a running pod\'s network namespace, the host for hostNetwork pods; 400 when nothing runs', async () => {
  const table = new WorkerTable();
  table.add(worker('host', [{ name: 'app', running: true }], { hostNetwork: true }));
  table.add(worker('idle', [{ name: 'app', running: false }]));
  table.add(worker('nons', [{ name: 'app', running: true }]));
  const r = new WorkerStreamResolver(table);
  assert.deepEqual(await r.portForwardTarget('default', 'host'), { uid: table.byName('default', 'host')!.uid });
  await assert.rejects(r.portForwardTarget('default', 'idle'), /unable to forward port because pod is not running/);
  await assert.rejects(r.portForwardTarget('default', 'nons'), /pod nons has no network namespace/);
  assert.equal(await status(r.portForwardTarget('default', 'nope')), 404);
});

test("port-forward: the pod's namespace is looked up with this agent's prefix (an agent on another bridge names them <bridge>-…)", async (t) => {
  const table = new WorkerTable();
  const w = worker('web', [{ name: 'app', running: true }]);
  table.add(w);
  // Only the name's existence is looked at: a plain file stands in for the namespace's bind mount.
  const name = netnsName(w.uid, 'berthtst9-');
  mkdirSync(NETNS_DIR, { recursive: true });
  writeFileSync(netnsPath(name), '');
  t.after(() => rmSync(netnsPath(name), { force: true }));
  assert.deepEqual(await new WorkerStreamResolver(table, 'berthtst9-').portForwardTarget('default', 'web'), { uid: w.uid, netnsPath: netnsPath(name) });
  await assert.rejects(new WorkerStreamResolver(table).portForwardTarget('default', 'web'), /pod web has no network namespace/);
});
