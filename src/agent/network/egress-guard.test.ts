import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { egressRuleset, egressTable, ensureEgressGuard, removeEgressGuard, EGRESS_TABLE } from './egress-guard.ts';

test('the ruleset rejects bridge traffic leaving through another interface', () => {
  const r = egressRuleset('berthtest9');
  assert.match(r, /iifname "berthtest9" oifname != "berthtest9" counter reject/);
  assert.match(r, /hook forward/);
});

test('installs and removes the nftables table (root)', async () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (nftables)');
  await ensureEgressGuard('berthtest9');
  await ensureEgressGuard('berthtest9'); // idempotent
  // A bridge other than berth0 gets a table of its own (clusters side by side on one machine).
  assert.equal(egressTable('berthtest9'), `${EGRESS_TABLE}-berthtest9`);
  const listed = execFileSync('nft', ['list', 'table', 'inet', egressTable('berthtest9')]).toString();
  assert.match(listed, /iifname "berthtest9"/);
  await removeEgressGuard('berthtest9');
  assert.throws(() => execFileSync('nft', ['list', 'table', 'inet', egressTable('berthtest9')], { stdio: 'pipe' }));
});
