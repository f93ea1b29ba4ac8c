import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartColumns } from './metrics-chart.ts';

test('history points become uPlot columns: seconds, millicores, MiB; gaps stay gaps', () => {
  const [t, cpu, mem] = chartColumns([{ t: 10_000, cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 64 * 2 ** 20 }, { t: 20_000 }]);
  assert.deepEqual(t, [10, 20]);
  assert.deepEqual(cpu, [250, null]);
  assert.deepEqual(mem, [64, null]);
});
