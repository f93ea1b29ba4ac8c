import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, snapshotOf } from '../cluster.fixture.ts';
import { ERR_REASON, nodePorts } from './node-ports.ts';

const withPort = (name: string, port: number, hostIP?: string, protocol?: string) => makePod(name, { spec: {
  containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: port, ...(hostIP ? { hostIP } : {}), ...(protocol ? { protocol } : {}) }] }],
} });

test('NodePorts: a used hostPort conflicts; other protocol or other IP does not', () => {
  const snap = snapshotOf([makeNode('a'), makeNode('b'), makeNode('c')], [
    [withPort('x', 8080), 'a'], [withPort('y', 8080, '10.0.0.1'), 'b'], [withPort('z', 8080, undefined, 'UDP'), 'c'],
  ]);
  assert.deepEqual(runFilter(nodePorts(), podInfoOf(withPort('p', 8080)), snap), { a: ERR_REASON, b: ERR_REASON, c: '' });
  assert.deepEqual(runFilter(nodePorts(), podInfoOf(withPort('q', 8080, '10.0.0.2')), snap), { a: ERR_REASON, b: '', c: '' });
});
