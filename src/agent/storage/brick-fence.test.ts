import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FenceTable, fenceScript } from './brick-fence.ts';

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
  const t = new FenceTable(async (s) => void applied.push(s));
  await t.sync([{ volume: 'v', from: '10.0.0.1' }]);
  await t.sync([{ volume: 'v', from: '10.0.0.1' }]);
  await t.sync([]);
  assert.equal(applied.length, 2);
});
