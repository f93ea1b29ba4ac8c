import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseInfo, parseList, parsePool, parseStatus } from './gluster-cli.ts';

// Real answers of glusterfs 10.3 (Debian 12) on a 4-node lab, replica 3 on node-2..4.
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('volume info: name, state and bricks in order', () => {
  const info = parseInfo(fixture('volume-info.xml'))!;
  assert.equal(info.name, 'pvc-3128c352-f8df-4da6-a187-c6d3b162e7a2');
  assert.equal(info.status, 'Started');
  assert.deepEqual(info.bricks.map((b) => b.split(':')[0]), ['198.18.0.12', '198.18.0.13', '198.18.0.14']);
  assert.match(info.bricks[0], /^198\.18\.0\.12:\/tmp\/stg-lab\/node-2\/replicated\/bricks\/pvc-3128c352-f8df-4da6-a187-c6d3b162e7a2\/brick$/);
  assert.equal(info.options?.['cluster.heal-timeout'], '10', 'the options set on it');
  assert.equal(info.options?.['cluster.quorum-type'], 'auto');
  assert.equal(parseInfo('<cliOutput><opRet>-1</opRet><volInfo><volumes><count>0</count></volumes></volInfo></cliOutput>'), undefined);
});

test('volume status: the bricks with online state and port, not the self-heal daemons', () => {
  const bricks = parseStatus(fixture('volume-status.xml'));
  assert.equal(bricks.length, 3);
  assert.ok(bricks.every((b) => b.online && b.port! > 49151));
  assert.equal(bricks[0].name.split(':')[0], '198.18.0.12');
  const offline = fixture('volume-status.xml').replace(/<status>1<\/status>\s*<port>52266<\/port>/, '<status>0</status><port>N/A</port>');
  assert.deepEqual(parseStatus(offline).map((b) => b.online), [false, true, true]);
  assert.equal(parseStatus(offline)[0].port, undefined);
});

test('pool list: the other members, not localhost', () => {
  const peers = parsePool(fixture('pool-list.xml'));
  assert.deepEqual(peers.map((p) => p.address).sort(), ['198.18.0.12', '198.18.0.13', '198.18.0.14']);
  assert.ok(peers.every((p) => p.connected));
});

test('volume list: the names this glusterd knows; none is an empty list', () => {
  assert.deepEqual(parseList(fixture('volume-list.xml')), ['pvc-125f46bc-6d3f-40fc-b992-4f9955ebf20b', 'pvc-e1fafa3b-e917-4726-958f-151e1eb4d68d']);
  assert.deepEqual(parseList('<cliOutput><opRet>0</opRet><volList><count>0</count></volList></cliOutput>'), []);
});
