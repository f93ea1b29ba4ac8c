import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CniError, ResultCache, execPlugin, primaryIPv4, runConflist, type CniConflist } from './cni.ts';
import { buildBerthConflist } from './cni-config.ts';

/** Fake plugin: logs its verb and stdin, prints a result naming itself (or an error for `fail`). */
const FAKE = `#!/bin/sh
input=$(cat)
dir=$(dirname "$0")
name=$(basename "$0")
echo "$name $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME $CNI_PATH $CNI_ARGS" >> "$dir/calls.log"
printf '%s\\n' "$input" > "$dir/$name.$CNI_COMMAND.stdin"
if [ "$name" = fail ]; then echo '{"cniVersion":"1.0.0","code":7,"msg":"no bridge for you","details":"really"}'; exit 1; fi
if [ "$name" = crash ]; then echo "segfault-ish" >&2; exit 2; fi
if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24","gateway":"10.9.0.1"}],"from":"'$name'"}'; fi
`;

async function withPlugins(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cni-'));
  try {
    for (const n of ['a', 'b', 'fail', 'crash']) {
      await writeFile(path.join(dir, n), FAKE);
      await chmod(path.join(dir, n), 0o755);
    }
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const list: CniConflist = { cniVersion: '1.0.0', name: 'testnet', plugins: [{ type: 'a', x: 1 }, { type: 'b' }] };
const rt = (dir: string) => ({ containerId: 'pod-1', netns: '/var/run/netns/x', ifName: 'eth0', binDirs: ['/nonexistent', dir], args: { IgnoreUnknown: '1', K8S_POD_NAME: 'p' } });

test('ADD runs the chain in order, passing prevResult; env and stdin follow the spec', async () => {
  await withPlugins(async (dir) => {
    const res = await runConflist('ADD', list, rt(dir));
    assert.equal(res?.from, 'b');
    assert.deepEqual(primaryIPv4(res), { ip: '10.9.0.2', cidr: '10.9.0.2/24', gateway: '10.9.0.1' });
    const calls = (await readFile(path.join(dir, 'calls.log'), 'utf8')).trim().split('\n');
    assert.deepEqual(calls, [
      `a ADD pod-1 /var/run/netns/x eth0 /nonexistent:${dir} IgnoreUnknown=1;K8S_POD_NAME=p`,
      `b ADD pod-1 /var/run/netns/x eth0 /nonexistent:${dir} IgnoreUnknown=1;K8S_POD_NAME=p`,
    ]);
    const aIn = JSON.parse(await readFile(path.join(dir, 'a.ADD.stdin'), 'utf8'));
    assert.deepEqual(aIn, { type: 'a', x: 1, name: 'testnet', cniVersion: '1.0.0' });
    const bIn = JSON.parse(await readFile(path.join(dir, 'b.ADD.stdin'), 'utf8'));
    assert.equal(bIn.prevResult.from, 'a');
  });
});

test('DEL runs in reverse with the cached result; CHECK in order', async () => {
  await withPlugins(async (dir) => {
    const cached = { cniVersion: '1.0.0', from: 'cache' };
    await runConflist('DEL', list, { ...rt(dir), netns: '' }, cached);
    await runConflist('CHECK', list, rt(dir), cached);
    const calls = (await readFile(path.join(dir, 'calls.log'), 'utf8')).trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '));
    assert.deepEqual(calls, ['b DEL', 'a DEL', 'a CHECK', 'b CHECK']);
    assert.equal(JSON.parse(await readFile(path.join(dir, 'a.DEL.stdin'), 'utf8')).prevResult.from, 'cache');
    assert.equal(JSON.parse(await readFile(path.join(dir, 'b.CHECK.stdin'), 'utf8')).prevResult.from, 'cache');
    await assert.rejects(runConflist('CHECK', list, rt(dir)), /cached ADD result/);
  });
});

test("plugin errors surface the plugin's msg; DEL keeps going past a failing plugin", async () => {
  await withPlugins(async (dir) => {
    await assert.rejects(execPlugin('ADD', { type: 'fail', name: 'n', cniVersion: '1.0.0' }, rt(dir)), (err: unknown) => {
      assert.ok(err instanceof CniError);
      assert.equal(err.message, 'CNI plugin fail ADD failed (code 7): no bridge for you: really');
      return true;
    });
    await assert.rejects(execPlugin('ADD', { type: 'crash', name: 'n', cniVersion: '1.0.0' }, rt(dir)), /crash ADD failed \(code 2\): segfault-ish/);
    await assert.rejects(execPlugin('ADD', { type: 'nope', name: 'n', cniVersion: '1.0.0' }, rt(dir)), /"nope" not found/);
    await assert.rejects(execPlugin('ADD', { type: '../a', name: 'n', cniVersion: '1.0.0' }, rt(dir)), /invalid CNI plugin type/);
    const chain: CniConflist = { ...list, plugins: [{ type: 'a' }, { type: 'fail' }] };
    await assert.rejects(runConflist('DEL', chain, rt(dir)), /no bridge for you/);
    const calls = await readFile(path.join(dir, 'calls.log'), 'utf8');
    assert.match(calls, /a DEL/); // ran after the failing plugin
  });
});

test('result cache round-trips and removes', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cache-'));
  try {
    const cache = new ResultCache(path.join(dir, 'results'));
    assert.equal(await cache.load('n', 'c', 'eth0'), undefined);
    await cache.save('n', 'c', 'eth0', { cniVersion: '1.0.0', ips: [] });
    assert.deepEqual(await cache.load('n', 'c', 'eth0'), { cniVersion: '1.0.0', ips: [] });
    await cache.remove('n', 'c', 'eth0');
    await cache.remove('n', 'c', 'eth0');
    assert.equal(await cache.load('n', 'c', 'eth0'), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Berth conflist: bridge (gateway, no masquerade, hairpin, host-local); lo is the agent\'s (netns.ts)', () => {
  const l = buildBerthConflist({ nodePodCidr: '10.88.0.0/24', ipamDataDir: '/d/cni/ipam' });
  assert.equal(l.name, 'berth');
  assert.deepEqual(l.plugins.map((p) => p.type), ['bridge']);
  assert.deepEqual(l.plugins[0], {
    type: 'bridge', bridge: 'berth0', isGateway: true, isDefaultGateway: false, ipMasq: false, hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/24', gateway: '10.88.0.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/d/cni/ipam' },
  });
  assert.throws(() => buildBerthConflist({ nodePodCidr: '10.88.0.1/24', ipamDataDir: '/x' }), /host bits/);
});
