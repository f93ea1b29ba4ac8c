/** The shim's own environment: log limits (defaults, refusals) and the stdin FIFO variables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSpec } from '../driver.ts';
import { DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_MAX_FILES, shimEnv } from './shim-env.ts';

const spec = (o: Partial<ContainerSpec> = {}) => o as ContainerSpec;

test('log limits: the kubelet defaults, or the spec\'s', () => {
  assert.deepEqual(shimEnv(spec(), { runtime: 'x', dir: '/s/c1', stdinFifo: false }), {
    BERTH_LOG_MAX_BYTES: String(DEFAULT_LOG_MAX_BYTES), BERTH_LOG_MAX_FILES: String(DEFAULT_LOG_MAX_FILES),
  });
  assert.equal(DEFAULT_LOG_MAX_BYTES, 10 * 1024 * 1024);
  assert.equal(DEFAULT_LOG_MAX_FILES, 5);
  const env = shimEnv(spec({ logMaxBytes: 100, logMaxFiles: 1 }), { runtime: 'x', dir: '/s/c1', stdinFifo: false });
  assert.equal(env.BERTH_LOG_MAX_BYTES, '100');
  assert.equal(env.BERTH_LOG_MAX_FILES, '1');
});

test('bad log limits are refused in the runtime\'s name', () => {
  assert.throws(() => shimEnv(spec({ logMaxBytes: 0 }), { runtime: 'runc', dir: '/s', stdinFifo: false }), /^Error: runc runtime: logMaxBytes must be a positive integer, not 0$/);
  assert.throws(() => shimEnv(spec({ logMaxFiles: 1.5 }), { runtime: 'process', dir: '/s', stdinFifo: false }), /process runtime: logMaxFiles must be a positive integer, not 1.5/);
});

test('stdin: the FIFO when the shim hands it to the command; stdinOnce only without a TTY', () => {
  const fifo = shimEnv(spec({ stdin: true }), { runtime: 'x', dir: '/s/c1', stdinFifo: true });
  assert.equal(fifo.BERTH_STDIN_FIFO, '/s/c1/stdin');
  assert.equal(fifo.BERTH_STDIN_ONCE, undefined);
  assert.equal(shimEnv(spec({ stdin: true, stdinOnce: true }), { runtime: 'x', dir: '/s', stdinFifo: true }).BERTH_STDIN_ONCE, '1');
  const tty = shimEnv(spec({ stdin: true, stdinOnce: true, tty: true }), { runtime: 'x', dir: '/s', stdinFifo: false });
  assert.equal(tty.BERTH_STDIN_FIFO, undefined);
  assert.equal(tty.BERTH_STDIN_ONCE, undefined);
});
