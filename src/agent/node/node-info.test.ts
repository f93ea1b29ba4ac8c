import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  goArch, hostIPv4, nodeConditions, nodeLabels, nodeResources, parseMeminfo, parsePrettyName, sampleMachine,
  stampConditions, toKi, type MachineSample,
} from './node-info.ts';

const GI = 1024 ** 3;

function sample(over: Partial<MachineSample> = {}): MachineSample {
  return {
    cpus: 4, memTotalBytes: 8 * GI, memAvailableBytes: 4 * GI, diskTotalBytes: 100 * GI, diskFreeBytes: 50 * GI,
    pidCount: 300, pidMax: 4_194_304, hostname: 'h', internalIP: '10.0.0.5', machineID: 'm', systemUUID: 'u',
    bootID: 'b', kernelVersion: '6.1.0', osImage: 'Debian', architecture: 'amd64', ...over,
  };
}

describe('node-info', () => {
  it('parses /proc/meminfo into bytes', () => {
    const m = parseMeminfo('MemTotal:       16384000 kB\nMemAvailable:    8192000 kB\nActive(anon):  10 kB\nHugePages_Total:       0\n');
    assert.equal(m.MemTotal, 16384000 * 1024);
    assert.equal(m.MemAvailable, 8192000 * 1024);
    assert.equal(m['Active(anon)'], 10240);
    assert.equal(m.HugePages_Total, 0);
  });

  it('reads PRETTY_NAME with or without quotes', () => {
    assert.equal(parsePrettyName('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(parsePrettyName('PRETTY_NAME=Alpine'), 'Alpine');
    assert.equal(parsePrettyName(undefined), 'Linux');
  });

  it('maps architectures and picks a non-loopback IPv4', () => {
    assert.equal(goArch('x64'), 'amd64');
    assert.equal(goArch('arm64'), 'arm64');
    assert.equal(hostIPv4({ lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true } as never], eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false } as never, { address: '192.168.1.7', family: 'IPv4', internal: false } as never] }), '192.168.1.7');
    assert.equal(hostIPv4({ lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true } as never] }), '127.0.0.1');
  });

  it('computes capacity and allocatable minus reserves', () => {
    const r = nodeResources(sample(), 110, { cpuMillis: 500, memoryBytes: GI, ephemeralStorageBytes: 10 * GI });
    assert.deepEqual(r.capacity, { cpu: '4', memory: `${8 * 1024 * 1024}Ki`, pods: '110', 'ephemeral-storage': `${100 * 1024 * 1024}Ki` });
    assert.deepEqual(r.allocatable, { cpu: '3500m', memory: `${7 * 1024 * 1024}Ki`, pods: '110', 'ephemeral-storage': `${90 * 1024 * 1024}Ki` });
    assert.equal(nodeResources(sample()).allocatable.cpu, '4');
    assert.equal(toKi(1023), '0Ki');
  });

  it('derives the kubelet conditions from thresholds', () => {
    const ok = nodeConditions(sample(), true);
    assert.deepEqual(ok.map((c) => `${c.type}=${c.status}:${c.reason}`), [
      'MemoryPressure=False:KubeletHasSufficientMemory', 'DiskPressure=False:KubeletHasNoDiskPressure',
      'PIDPressure=False:KubeletHasSufficientPID', 'Ready=True:KubeletReady',
    ]);
    assert.equal(ok[3].message, 'kubelet is posting ready status');
    const bad = nodeConditions(sample({ memAvailableBytes: 50 * 1024 * 1024, diskFreeBytes: 0.5 * GI, pidCount: 4_000_000 }), false);
    assert.deepEqual(bad.map((c) => c.status), ['True', 'True', 'True', 'False']);
    assert.equal(bad[3].reason, 'KubeletNotReady');
    // 10 % rule: 5 GiB free of 100 GiB is pressure even though above 1 GiB.
    assert.equal(nodeConditions(sample({ diskFreeBytes: 5 * GI }), true)[1].status, 'True');
  });

  it('keeps lastTransitionTime while a condition does not change', () => {
    const first = stampConditions(nodeConditions(sample(), false), undefined, 't1');
    const second = stampConditions(nodeConditions(sample(), false), first, 't2');
    assert.equal(second[3].lastTransitionTime, 't1');
    assert.equal(second[3].lastHeartbeatTime, 't2');
    const third = stampConditions(nodeConditions(sample(), true), second, 't3');
    assert.equal(third[3].lastTransitionTime, 't3');
    assert.equal(third[0].lastTransitionTime, 't1');
  });

  it('labels the node with the well-known labels', () => {
    const l = nodeLabels('n1', 'arm64');
    assert.equal(l['kubernetes.io/hostname'], 'n1');
    assert.equal(l['kubernetes.io/arch'], 'arm64');
    assert.equal(l['beta.kubernetes.io/os'], 'linux');
  });

  it('samples this machine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-node-info-'));
    try {
      const s = sampleMachine(dir);
      assert.ok(s.cpus >= 1);
      assert.ok(s.memTotalBytes > 0);
      assert.ok(s.diskTotalBytes > 0);
      assert.match(s.internalIP, /^\d+\.\d+\.\d+\.\d+$/);
      assert.ok(s.kernelVersion.length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
