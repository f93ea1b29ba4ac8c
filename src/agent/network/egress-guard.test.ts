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

test('on a node of several, cluster traffic and DNATed connections may leave; only the latter are masqueraded', () => {
  const r = egressRuleset('berth0', { clusterCidr: '10.42.0.0/16', nodePodCidr: '10.42.3.0/24' });
  const lines = r.split('\n').map((l) => l.trim());
  const accept = lines.indexOf('iifname "berth0" oifname != "berth0" ip daddr 10.42.0.0/16 accept');
  const dnat = lines.indexOf('iifname "berth0" oifname != "berth0" ct status dnat accept');
  const reply = lines.indexOf('iifname "berth0" oifname != "berth0" ct direction reply accept');
  const reject = lines.findIndex((l) => l.endsWith('reject with icmpx type admin-prohibited'));
  assert.ok(accept > 0 && dnat > accept && reply > dnat && reject > reply, r);
  assert.ok(lines.includes('ip saddr 10.42.3.0/24 ip daddr != 10.42.0.0/16 oifname != "berth0" ct status dnat counter masquerade fully-random'), r);
  // A single node (berth up) keeps today's guard: no masquerading at all.
  assert.doesNotMatch(egressRuleset('berth0'), /masquerade|accept$/m);
});
