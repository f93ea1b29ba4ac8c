import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { egressRuleset, ensureEgressGuard, removeEgressGuard, EGRESS_TABLE } from './egress-guard.ts';

test('the ruleset rejects bridge traffic leaving through another interface', () => {
  const r = egressRuleset('berthtest9');
  assert.match(r, /iifname "berthtest9" oifname != "berthtest9" counter reject/);
  assert.match(r, /hook forward/);
});

test('installs and removes the nftables table (root)', async () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (nftables)');
  await ensureEgressGuard('berthtest9');
  await ensureEgressGuard('berthtest9'); // idempotent
  const listed = execFileSync('nft', ['list', 'table', 'inet', EGRESS_TABLE]).toString();
  assert.match(listed, /iifname "berthtest9"/);
  await removeEgressGuard();
  assert.throws(() => execFileSync('nft', ['list', 'table', 'inet', EGRESS_TABLE], { stdio: 'pipe' }));
});
