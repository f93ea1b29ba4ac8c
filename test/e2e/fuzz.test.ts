/**
 * The API fuzz suite in CI: about a minute of property-based requests (fuzz.fixture.ts) against a
 * real `bin/berth server`, seeded. A failure prints its seed; replay it with
 * `BERTH_FUZZ_SEED=<seed> node --import tsx --test test/e2e/fuzz.test.ts`. `BERTH_FUZZ_MS` sets the
 * duration; `npm run bench -- fuzz` runs it for 30 minutes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { runFuzz } from './fuzz.fixture.ts';

const seed = Number(process.env.BERTH_FUZZ_SEED ?? Date.now() % 2 ** 31);
const durationMs = Number(process.env.BERTH_FUZZ_MS ?? 60_000);

let berth: BerthServer;
before(async () => { berth = await startBerth(); });
after(async () => { await berth.cleanup(); });

test(`API fuzz, ${durationMs / 1000} s, seed ${seed}`, { timeout: durationMs + 120_000 }, async () => {
  console.log(`fuzz seed ${seed} (replay: BERTH_FUZZ_SEED=${seed})`);
  const report = await runFuzz({ url: berth.url, alive: () => berth.lastExit() === undefined, seed, durationMs, stopOnViolation: true });
  console.log(`fuzz: ${report.requests} requests, by status ${JSON.stringify(report.byStatus)}, explained 5xx ${report.explained5xx}, socket errors ${report.socketErrors}`);
  console.log(`fuzz actions: ${Object.entries(report.actions).map(([k, v]) => `${k} ${v.n} (${(v.ms / v.n).toFixed(0)} ms)`).join(', ')}`);
  const top = Object.entries(report.refusals).sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(`fuzz refusals (top): ${top.map(([k, n]) => `\n  ${n} × ${k}`).join('')}`);
  assert.deepEqual(report.violations, []);
  assert.equal(report.crashed, false);
  assert.ok(report.requests > 100, `only ${report.requests} requests`);
  assert.equal(berth.lastExit(), undefined, 'the server is still running');
  const internal = berth.logs().split('\n').filter((l) => l.includes('internal error serving a request'));
  assert.deepEqual(internal, [], 'no 500 was logged');
});
