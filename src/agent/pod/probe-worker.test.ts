import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ContainerProbes, ProbeWorker, type ProbeKind, type ProbeState } from './probe-worker.ts';
import type { ProbeOutcome, ProbeTarget } from './probes.ts';

const target: ProbeTarget = { podIP: '127.0.0.1', exec: async () => ({ exitCode: 0, output: '' }) };
const SCALE = 10; // 1 probe "second" = 10 ms

/** Polls until `cond` holds (timing-independent under load); fails after 5 s. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A scripted prober: returns results from `script` in order, then repeats the last one. */
function scripted(script: ('success' | 'failure')[] | (() => 'success' | 'failure')) {
  let i = 0;
  const calls: number[] = [];
  const run = async (): Promise<ProbeOutcome> => {
    calls.push(Date.now());
    const r = typeof script === 'function' ? script() : script[Math.min(i++, script.length - 1)];
    return { result: r, message: r };
  };
  return { run, calls };
}

test('thresholds: readiness starts failing, flips after successThreshold, back after failureThreshold', async () => {
  const s = scripted(['success', 'success', 'failure', 'success', 'failure', 'failure', 'failure']);
  const changes: ProbeState[] = [];
  const w = new ProbeWorker({ kind: 'readiness', probe: { periodSeconds: 1, successThreshold: 2, failureThreshold: 3 }, target, startedAt: new Date(), onChange: (st) => changes.push(st), timeScaleMs: SCALE, run: s.run });
  assert.equal(w.result, 'failure');
  w.start();
  // Readiness keeps probing after failing.
  await waitFor(() => s.calls.length >= 8, '8 probes');
  w.stop();
  assert.deepEqual(changes, ['success', 'failure']);
});

test('initialDelaySeconds delays the first probe; stop() halts probing', async () => {
  const s = scripted(['success']);
  const started = Date.now();
  const w = new ProbeWorker({ kind: 'liveness', probe: { initialDelaySeconds: 5, periodSeconds: 1 }, target, startedAt: new Date(started), onChange: () => {}, timeScaleMs: SCALE, run: s.run });
  w.start();
  await sleep(SCALE * 3);
  assert.equal(s.calls.length, 0);
  await sleep(SCALE * 5);
  assert.ok(s.calls.length >= 1);
  assert.ok(s.calls[0] - started >= SCALE * 5 - 2);
  w.stop();
  const n = s.calls.length;
  await sleep(SCALE * 4);
  assert.equal(s.calls.length, n);
});

test('liveness failure goes on hold and exposes the kill grace period', async () => {
  const s = scripted(['failure']);
  const changes: ProbeState[] = [];
  const w = new ProbeWorker({ kind: 'liveness', probe: { periodSeconds: 1, failureThreshold: 2, terminationGracePeriodSeconds: 5 }, target, startedAt: new Date(), onChange: (st) => changes.push(st), podTerminationGracePeriodSeconds: 60, timeScaleMs: SCALE, run: s.run });
  w.start();
  await waitFor(() => changes.length > 0, 'the failure');
  await sleep(SCALE * 5);
  w.stop();
  assert.deepEqual(changes, ['failure']);
  assert.equal(s.calls.length, 2, 'on hold after the failure');
  assert.equal(w.killGracePeriodSeconds, 5);
  assert.equal(new ProbeWorker({ kind: 'liveness', probe: {}, target, startedAt: new Date(), onChange: () => {}, podTerminationGracePeriodSeconds: 60 }).killGracePeriodSeconds, 60);
});

test('ContainerProbes: liveness and readiness wait for startup, then run', async () => {
  let startupOk = false;
  const calls: Record<string, number> = { startup: 0, liveness: 0, readiness: 0 };
  const events: [ProbeKind, ProbeState][] = [];
  const container = { startupProbe: { exec: { command: ['startup'] }, periodSeconds: 1, failureThreshold: 100 }, livenessProbe: { exec: { command: ['liveness'] }, periodSeconds: 1 }, readinessProbe: { exec: { command: ['readiness'] }, periodSeconds: 1 } };
  const probes = new ContainerProbes({
    container,
    target,
    startedAt: new Date(),
    timeScaleMs: SCALE,
    onChange: (k, st) => events.push([k, st]),
    run: async (probe) => {
      const kind = probe.exec.command[0] as string;
      calls[kind]++;
      return { result: kind === 'startup' && !startupOk ? 'failure' : 'success', message: '' };
    },
  });
  probes.start();
  await waitFor(() => calls.startup >= 3, 'startup probes');
  assert.equal(probes.started, false);
  assert.equal(probes.ready, false);
  assert.equal(calls.liveness + calls.readiness, 0);
  startupOk = true;
  await waitFor(() => probes.ready && calls.liveness >= 1, 'ready and live');
  const startupCalls = calls.startup;
  await sleep(SCALE * 3);
  probes.stop();
  assert.equal(calls.startup, startupCalls, 'startup stops after success');
  assert.equal(probes.started, true);
  assert.equal(probes.ready, true);
  assert.equal(probes.failed, undefined);
  assert.ok(calls.liveness >= 1 && calls.readiness >= 1);
  assert.deepEqual(events.filter(([k]) => k !== 'liveness'), [['startup', 'success'], ['readiness', 'success']]);
});

test('ContainerProbes without probes is started and ready at once', () => {
  const p = new ContainerProbes({ container: {}, target, startedAt: new Date(), onChange: () => {} });
  assert.equal(p.started, true);
  assert.equal(p.ready, true);
});
