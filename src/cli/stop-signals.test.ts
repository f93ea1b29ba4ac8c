import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('./stop-signals.ts', import.meta.url));
// A command that takes 400 ms to start and 50 ms to stop.
const CHILD = `
  import { handleStopSignals } from ${JSON.stringify(MODULE)};
  const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {}, child: () => log };
  const s = handleStopSignals(log, 'stopping');
  process.stdout.write('starting\\n');
  setInterval(() => {}, 1000);
  setTimeout(() => { process.stdout.write('started\\n'); s.started(async () => { await new Promise((r) => setTimeout(r, 50)); process.stdout.write('stopped\\n'); }); }, 400);
`;

function launch() {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const seen: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); for (const f of seen.splice(0)) f(); });
  const saw = async (s: string) => { while (!out.includes(s)) await new Promise<void>((r) => seen.push(r)); };
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  return { child, saw, exit, output: () => out };
}

test('a signal during start-up waits for the start, then stops cleanly', async () => {
  const c = launch();
  await c.saw('starting');
  c.child.kill('SIGTERM');
  assert.deepEqual(await c.exit, { code: 0, signal: null });
  assert.equal(c.output(), 'starting\nstarted\nstopped\n');
});

test('after start-up a signal stops at once; a second signal during start-up exits now', async () => {
  const a = launch();
  await a.saw('started');
  a.child.kill('SIGINT');
  assert.deepEqual(await a.exit, { code: 0, signal: null });
  assert.match(a.output(), /stopped\n$/);

  const b = launch();
  await b.saw('starting');
  b.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  b.child.kill('SIGTERM');
  assert.deepEqual(await b.exit, { code: 143, signal: null });
  assert.doesNotMatch(b.output(), /stopped/);
});
