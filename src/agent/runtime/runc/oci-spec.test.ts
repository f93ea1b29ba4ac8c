/** config.json generation: pure, no root needed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerSpec } from '../driver.ts';
import { ALL_CAPABILITIES, capabilitiesOfMask, DEFAULT_CAPABILITIES } from './oci-defaults.ts';
import { buildOciSpec, capabilityName, cgroupsPathOf, effectiveCapabilities, INIT_PATH, type OciSpecOptions } from './oci-spec.ts';

const base: ContainerSpec = {
  id: 'uid1_web_0',
  podUid: 'uid1',
  podName: 'p',
  podNamespace: 'default',
  containerName: 'web',
  image: 'busybox',
  argv: ['sh', '-c', 'echo hi'],
  env: { PATH: '/bin', A: 'x=y' },
  mounts: [],
  resources: {},
  hostname: 'p',
  logPath: '/tmp/x.log',
  cgroupParent: 'berth/pod-uid1',
};
const opts: OciSpecOptions = { rootfsPath: '/data/c/rootfs', initHostPath: '/usr/bin/tini-static', cgroupVersion: 'v1', swapAccounting: true };

test('process: tini as pid 1 before argv, env as K=V, cwd, user with groups, no terminal by default', () => {
  const s = buildOciSpec({ ...base, workingDir: '/srv', user: { uid: 1000, gid: 1001, groups: [5, 6] } }, opts);
  assert.deepEqual(s.process.args, [INIT_PATH, '-g', '--', 'sh', '-c', 'echo hi']);
  assert.deepEqual(s.process.env, ['PATH=/bin', 'A=x=y']);
  assert.equal(s.process.cwd, '/srv');
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1001, additionalGids: [5, 6] });
  assert.equal(s.process.terminal, false);
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.hostname, 'p');
  assert.deepEqual(s.root, { path: '/data/c/rootfs', readonly: false });
  const noInit = buildOciSpec({ ...base, tty: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true }, { ...opts, initHostPath: undefined });
  assert.deepEqual(noInit.process.args, ['sh', '-c', 'echo hi']);
  assert.deepEqual(noInit.process.user, { uid: 0, gid: 0 });
  assert.equal(noInit.process.cwd, '/');
  assert.equal(noInit.process.terminal, true);
  assert.equal(noInit.process.noNewPrivileges, true);
  assert.equal(noInit.root.readonly, true);
  assert.ok(!noInit.mounts.some((m) => m.destination === INIT_PATH));
});

test('mounts: kernel file systems first, the init on /dev, then the bind mounts with ro honoured', () => {
  const s = buildOciSpec(
    {
      ...base,
      mounts: [
        { hostPath: '/pods/uid1/etc-hosts', containerPath: '/etc/hosts', readOnly: true },
        { hostPath: '/pods/uid1/volumes/data', containerPath: '/data' },
      ],
    },
    opts,
  );
  assert.deepEqual(
    s.mounts.map((m) => `${m.destination} ${m.type}`),
    ['/proc proc', '/dev tmpfs', '/dev/pts devpts', '/dev/shm tmpfs', '/dev/mqueue mqueue', '/sys sysfs', '/sys/fs/cgroup cgroup', `${INIT_PATH} bind`, '/etc/hosts bind', '/data bind'],
  );
  const byDest = Object.fromEntries(s.mounts.map((m) => [m.destination, m]));
  assert.ok(byDest['/sys']!.options.includes('ro'));
  assert.ok(byDest['/sys/fs/cgroup']!.options.includes('ro'));
  assert.deepEqual(byDest['/etc/hosts'], { destination: '/etc/hosts', type: 'bind', source: '/pods/uid1/etc-hosts', options: ['rbind', 'rprivate', 'ro'] });
  assert.deepEqual(byDest['/data']!.options, ['rbind', 'rprivate', 'rw']);
  assert.equal(byDest[INIT_PATH]!.source, '/usr/bin/tini-static');
});

test('namespaces: pid, ipc, uts, mount new; network by path, or the host network', () => {
  const host = buildOciSpec(base, opts);
  assert.deepEqual(host.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]);
  const pod = buildOciSpec({ ...base, netnsPath: '/var/run/netns/berth-x' }, opts);
  assert.deepEqual(pod.linux.namespaces.at(-1), { type: 'network', path: '/var/run/netns/berth-x' });
});

test('resources: shares, quota/period, memory (+swap only with accounting), pids; devices denied; cgroupsPath', () => {
  const r = { cpuRequestMillis: 250, cpuLimitMillis: 1500, memoryLimitBytes: 128 << 20, pidsLimit: 100 };
  const s = buildOciSpec({ ...base, resources: r }, opts);
  assert.deepEqual(s.linux.resources, {
    devices: [{ allow: false, access: 'rwm' }],
    cpu: { shares: 256, quota: 150000, period: 100000 },
    memory: { limit: 128 << 20, swap: 128 << 20 },
    pids: { limit: 100 },
  });
  assert.equal(s.linux.cgroupsPath, '/berth/pod-uid1/uid1_web_0');
  assert.equal(cgroupsPathOf({ cgroupParent: '/a/b/', id: 'c' }), '/a/b/c');
  const noSwap = buildOciSpec({ ...base, resources: { memoryLimitBytes: 1 << 20 } }, { ...opts, swapAccounting: false });
  assert.deepEqual(noSwap.linux.resources.memory, { limit: 1 << 20 });
  assert.deepEqual(noSwap.linux.resources.cpu, { shares: 2 }, 'no request: the minimum shares, as the kubelet');
  const v2 = buildOciSpec({ ...base, resources: { memoryLimitBytes: 1 << 20 } }, { ...opts, cgroupVersion: 'v2', swapAccounting: false });
  assert.deepEqual(v2.linux.resources.memory, { limit: 1 << 20, swap: 1 << 20 });
  assert.deepEqual(v2.linux.resources.unified, { 'memory.oom.group': '1' });
});

test("capabilities: containerd's defaults, add/drop with or without CAP_, ALL, privileged = the host's set", () => {
  assert.deepEqual(effectiveCapabilities({}), [...DEFAULT_CAPABILITIES]);
  assert.equal(capabilityName('net_admin'), 'CAP_NET_ADMIN');
  const some = effectiveCapabilities({ capabilities: { add: ['NET_ADMIN', 'CAP_SYS_TIME'], drop: ['KILL', 'cap_chown'] } });
  assert.ok(some.includes('CAP_NET_ADMIN') && some.includes('CAP_SYS_TIME'));
  assert.ok(!some.includes('CAP_KILL') && !some.includes('CAP_CHOWN'));
  assert.deepEqual(effectiveCapabilities({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(effectiveCapabilities({ capabilities: { drop: ['ALL'] } }), []);
  const host = ['CAP_CHOWN', 'CAP_KILL'];
  assert.deepEqual(effectiveCapabilities({ privileged: true }, host), host);
  assert.deepEqual(effectiveCapabilities({ capabilities: { add: ['ALL'], drop: ['KILL'] } }, host), ['CAP_CHOWN']);
  const s = buildOciSpec(base, opts);
  assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities.effective, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities.inheritable, []);
  assert.deepEqual(s.process.capabilities.ambient, []);
});

test('capabilitiesOfMask reads /proc/PID/status masks in bit order', () => {
  assert.deepEqual(capabilitiesOfMask('0000000000000000'), []);
  assert.deepEqual(capabilitiesOfMask('0000000000000003'), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
  // containerd's default set is the well-known mask a80425fb.
  assert.deepEqual(new Set(capabilitiesOfMask('00000000a80425fb')), new Set(DEFAULT_CAPABILITIES));
  assert.equal(capabilitiesOfMask('000001ffffffffff').length, ALL_CAPABILITIES.length);
  assert.ok(!capabilitiesOfMask('000001fffeffffff').includes('CAP_SYS_RESOURCE'));
});

test('masked and read-only paths unless privileged; privileged: rw /sys, all devices', () => {
  const s = buildOciSpec(base, opts);
  assert.ok(s.linux.maskedPaths!.includes('/proc/kcore') && s.linux.maskedPaths!.includes('/sys/firmware'));
  assert.ok(s.linux.readonlyPaths!.includes('/proc/sys') && s.linux.readonlyPaths!.includes('/proc/sysrq-trigger'));
  const p = buildOciSpec({ ...base, privileged: true }, opts);
  assert.equal(p.linux.maskedPaths, undefined);
  assert.equal(p.linux.readonlyPaths, undefined);
  assert.ok(p.mounts.find((m) => m.destination === '/sys')!.options.includes('rw'));
  assert.deepEqual(p.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
});
