/** The agent's entry in the API: RuntimeClasses of its drivers, its Node, and the agent URL the API server proxies streams to. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_URL_ANNOTATION } from '../../apis/well-known.ts';
import { R } from '../../client/client.ts';
import { startTestEnv } from '../../controllers/control-plane.fixture.ts';
import { advertisedUrl, registerAgentNode } from './agent-node.ts';

test('a wildcard listen address is advertised as the node\'s address; a specific one as it is', () => {
  assert.equal(advertisedUrl('http://0.0.0.0:10250', '192.0.2.7'), 'http://192.0.2.7:10250');
  assert.equal(advertisedUrl('http://[::]:10250', '192.0.2.7'), 'http://192.0.2.7:10250');
  assert.equal(advertisedUrl('http://127.0.0.1:41000', '192.0.2.7'), 'http://127.0.0.1:41000');
});

test('registers the RuntimeClasses, the Node with its pod CIDR and agent port, and the agent URL', async () => {
  const env = await startTestEnv();
  try {
    const reg = await registerAgentNode(env.client, {
      nodeName: 'n1', podCidr: '10.42.3.0/24', serverUrl: 'http://0.0.0.0:10255', hostIP: '192.0.2.7',
      runtimeHandlers: ['process', 'oci'], dataDir: '/', log: env.log,
    });
    try {
      const rcs = await env.client.list(R.runtimeclasses, undefined);
      // The server makes the catalog's classes at start; the agent adds what its handlers need beyond them.
      const classes = rcs.items.map((o) => `${o.metadata.name}:${o.handler}`);
      for (const c of ['oci:oci', 'process:process']) assert.ok(classes.includes(c), `${c} in ${classes.join(', ')}`);
      const node = await env.client.get(R.nodes, undefined, 'n1');
      assert.equal(node.spec.podCIDR, '10.42.3.0/24');
      assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, 10255);
      assert.equal(node.metadata.annotations?.[AGENT_URL_ANNOTATION], 'http://192.0.2.7:10255');
    } finally {
      await reg.stop();
    }
  } finally {
    await env.close();
  }
});
