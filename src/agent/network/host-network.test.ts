/**
 * The agent's host network part on the real host (root): an overlap is refused before anything is
 * touched; otherwise the unreachable cluster route, the bridge with the node gateway, the service
 * route and the egress table appear, idempotently. Its own ranges and bridge (10.217/10.218,
 * berthtesthn0); everything made is removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { egressTable, removeEgressGuard } from './egress-guard.ts';
import { removeBridge, removeHostRoutes } from './host-guard.ts';
import { prepareHostNetwork } from './host-network.ts';
import { proxyTable } from './node-proxy.ts';

const BRIDGE = 'berthtesthn0';
const opts = { clusterCidr: '10.217.0.0/16', podCidr: '10.217.4.0/24', serviceCidr: '10.218.0.0/16', bridgeName: BRIDGE };
const ip = (...args: string[]) => execFileSync('ip', args).toString();
const linkExists = () => { try { ip('link', 'show', 'dev', BRIDGE); return true; } catch { return false; } };

async function cleanUp(): Promise<void> {
  await removeHostRoutes({ podClusterCidr: opts.clusterCidr, serviceCidr: opts.serviceCidr, bridgeName: BRIDGE }).catch(() => {});
  await removeBridge(BRIDGE).catch(() => {});
  await removeEgressGuard(BRIDGE).catch(() => {});
}

test('an overlap with the host is refused before anything is made; then routes, gateway and egress guard', async () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (routes, bridges, nftables)');
  await cleanUp();
  try {
    // The host's own loopback range as the service CIDR: refused, and the host is left as it was.
    await assert.rejects(prepareHostNetwork({ ...opts, serviceCidr: '127.0.0.0/8' }), /refusing to start: cluster traffic could leave the machine[\s\S]*service CIDR 127\.0\.0\.0\/8/);
    assert.ok(!linkExists(), 'no bridge made');
    assert.doesNotMatch(ip('-4', 'route', 'show', 'type', 'unreachable'), /10\.217\.0\.0\/16/);

    await prepareHostNetwork(opts);
    await prepareHostNetwork(opts); // a restart: idempotent
    assert.match(ip('-4', 'route', 'show', 'type', 'unreachable'), /^unreachable 10\.217\.0\.0\/16/m);
    assert.match(ip('-4', 'addr', 'show', 'dev', BRIDGE), /inet 10\.217\.4\.1\/24/);
    assert.match(ip('-4', 'route', 'show', 'exact', '10.218.0.0/16'), new RegExp(`dev ${BRIDGE}`));
    assert.match(execFileSync('nft', ['list', 'table', 'inet', egressTable(BRIDGE)]).toString(), new RegExp(`iifname "${BRIDGE}"`));
  } finally {
    await cleanUp();
  }
});

test('each bridge has its own proxy table; the default bridge keeps the plain name', () => {
  assert.equal(proxyTable('berth0'), 'berth-proxy');
  assert.equal(proxyTable(BRIDGE), `berth-proxy-${BRIDGE}`);
});
