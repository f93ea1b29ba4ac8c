import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMeminfo, parseNetDev, parseProcStatCpuNs } from './host-stats.ts';
import { netDevText } from './cgroup-tree.fixture.ts';

test('/proc/stat: busy time is everything but idle and iowait, in ns', () => {
  // user nice system idle iowait irq softirq steal guest guest_nice
  assert.equal(parseProcStatCpuNs('cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 1 2 3\n'), (100 + 5 + 50 + 3 + 2 + 1) * 10_000_000);
  assert.equal(parseProcStatCpuNs(''), 0);
});

test('/proc/meminfo: working set = MemTotal − MemAvailable', () => {
  const m = parseMeminfo('MemTotal:       1000 kB\nMemFree:         300 kB\nMemAvailable:    600 kB\n');
  assert.deepEqual(m, { capacityBytes: 1_024_000, availableBytes: 614_400, workingSetBytes: 409_600, usageBytes: 716_800 });
});

test('/proc/net/dev: receive and transmit fields per interface', () => {
  const s = parseNetDev(netDevText({ lo: [5, 5], eth0: [1234, 5678] }));
  assert.equal(s.length, 2);
  assert.deepEqual({ name: s[1].name, rx: s[1].rxBytes, tx: s[1].txBytes, rxp: s[1].rxPackets, txp: s[1].txPackets }, { name: 'eth0', rx: 1234, tx: 5678, rxp: 10, txp: 20 });
});
