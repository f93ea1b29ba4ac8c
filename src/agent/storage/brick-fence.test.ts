import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutArgs, FenceTable, fenceScript } from './brick-fence.ts';

test('the table holds exactly the wanted drops, replaced in one transaction; no fence: no table', () => {
  const s = fenceScript([{ volume: 'pvc-b', from: '198.18.0.12' }, { volume: 'pvc-a', from: '198.18.0.12', port: 50123 }]);
  assert.equal(s, [
    'table inet berth-storage-fence {}',
    'delete table inet berth-storage-fence',
    'table inet berth-storage-fence {',
    '  chain input {',
    '    type filter hook input priority -5; policy accept;',
    '    ip saddr 198.18.0.12 tcp dport 50123 drop comment "fence pvc-a"',
    '    ip saddr 198.18.0.12 tcp dport 49152-60999 drop comment "fence pvc-b"',
    '  }',
    '}',
    '',
  ].join('\n'));
  assert.equal(fenceScript([]), 'table inet berth-storage-fence {}\ndelete table inet berth-storage-fence\n');
});

test('rules are applied only when they change', async () => {
  const applied: string[] = [];
  const cut: string[] = [];
  const t = new FenceTable(async (s) => void applied.push(s), async (r) => void cut.push(`${r.volume} ${r.from} ${r.port ?? '*'}`));
  await t.sync([{ volume: 'v', from: '10.0.0.1' }]);
  await t.sync([{ volume: 'v', from: '10.0.0.1' }]);
  await t.sync([{ volume: 'v', from: '10.0.0.1' }, { volume: 'w', from: '10.0.0.1', port: 50001 }]);
  await t.sync([]);
  assert.equal(applied.length, 3);
  assert.deepEqual(cut, ['v 10.0.0.1 *', 'w 10.0.0.1 50001'], 'each new rule cuts its connections once');
});

test('the cut names the fenced node and the brick port, or the whole brick range', () => {
  assert.deepEqual(cutArgs({ volume: 'v', from: '198.18.0.12', port: 50123 }), ['-K', '-tn', 'dst', '198.18.0.12', 'sport', '=', ':50123']);
  assert.deepEqual(cutArgs({ volume: 'v', from: '198.18.0.12' }), ['-K', '-tn', 'dst', '198.18.0.12', '(', 'sport', '>=', ':49152', 'and', 'sport', '<=', ':60999', ')']);
});
