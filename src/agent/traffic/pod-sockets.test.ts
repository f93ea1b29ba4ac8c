import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Flow } from './conntrack.ts';
import { canonicalIp, parseSocketTable, readSocketOwners, SocketOwnerReader } from './pod-sockets.ts';
import { TrafficTracker } from './traffic-tracker.ts';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const line = (sl: number, local: string, remote: string, st: string, inode: number) =>
  `   ${sl}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 00000000be6cbad2 100 0 0 10 0`;

/**
 * A captured /proc of a node (10.0.0.5) with two host-network pods: `web` (pid 4001) listens on
 * 0.0.0.0:8080 and [::]:9090 and holds a connection to itself; `client` (pid 4002) holds a
 * connection to the Service 10.43.0.20:80. pid 4003 is no pod's (the agent's own 6443).
 */
function captured(): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-proc-'));
  const fds: Record<number, number[]> = { 4001: [5001, 5003, 5005], 4002: [5002], 4003: [5004] };
  for (const [pid, inodes] of Object.entries(fds)) {
    mkdirSync(join(root, pid, 'fd'), { recursive: true });
    mkdirSync(join(root, pid, 'net'), { recursive: true });
    symlinkSync('/dev/null', join(root, pid, 'fd', '0'));
    inodes.forEach((i, n) => symlinkSync(`socket:[${i}]`, join(root, pid, 'fd', String(n + 3))));
    symlinkSync('pipe:[777]', join(root, pid, 'fd', '99'));
  }
  writeFileSync(join(root, '4001', 'net', 'tcp'), [
    HEADER,
    line(0, '00000000:1F90', '00000000:0000', '0A', 5001), // web: 0.0.0.0:8080 LISTEN
    line(1, '0500000A:A028', '14002B0A:0050', '01', 5002), // client: 10.0.0.5:41000 → 10.43.0.20:80
    line(2, '00000000:192B', '00000000:0000', '0A', 5004), // not a pod: 0.0.0.0:6443
    line(3, '0500000A:A410', '0500000A:1F90', '01', 5005), // web → web: 10.0.0.5:42000 → 10.0.0.5:8080
    line(4, '0500000A:A411', '0700000A:C350', '06', 0), // a closed socket: TIME_WAIT, no owner
    '',
  ].join('\n'));
  writeFileSync(join(root, '4001', 'net', 'tcp6'), [HEADER, line(0, '00000000000000000000000000000000:2382', '00000000000000000000000000000000:0000', '0A', 5003), ''].join('\n'));
  return root;
}

test('/proc/net/tcp{,6} and udp lines: addresses in host byte order, IPv4-mapped IPv6 as IPv4, UDP bound sockets as listeners', () => {
  const [listen, conn] = parseSocketTable([HEADER, line(0, '00000000:1F90', '00000000:0000', '0A', 11), line(1, '0500000A:A028', '14002B0A:0050', '01', 12)].join('\n'), 'tcp');
  assert.deepEqual(listen, { proto: 'tcp', local: { ip: '0.0.0.0', port: 8080 }, remote: { ip: '0.0.0.0', port: 0 }, state: 'LISTEN', inode: 11 });
  assert.deepEqual(conn.local, { ip: '10.0.0.5', port: 41000 });
  assert.deepEqual(conn.remote, { ip: '10.43.0.20', port: 80 });
  assert.equal(conn.state, 'ESTABLISHED');
  const [mapped, v6] = parseSocketTable([HEADER,
    line(0, '0000000000000000FFFF00000500000A:1F90', '0000000000000000FFFF00000700000A:C350', '01', 13),
    line(1, '000080FE00000000FF0000020300FEFF:0016', '00000000000000000000000000000000:0000', '0A', 14)].join('\n'), 'tcp');
  assert.equal(mapped.local.ip, '10.0.0.5');
  assert.equal(mapped.remote.ip, '10.0.0.7');
  assert.equal(v6.local.ip, 'fe80::200:ff:fffe:3');
  const [udp] = parseSocketTable([HEADER, line(0, '0100360A:0035', '00000000:0000', '07', 15)].join('\n'), 'udp');
  assert.deepEqual({ ip: udp.local.ip, port: udp.local.port, state: udp.state }, { ip: '10.54.0.1', port: 53, state: 'LISTEN' });
  assert.equal(canonicalIp('fe80:0000:0000:0000:00ff:0200:00ff:fe03'), 'fe80::ff:200:ff:fe03');
});

test('host-network pods: connections named by the owner of their sockets; a pod calling itself is no edge; other processes and other hosts\' ports are no pod\'s', async () => {
  const root = captured();
  try {
    const owners = readSocketOwners([
      { namespace: 'default', name: 'web', pids: [4001] },
      { namespace: 'ops', name: 'client', pids: [4002, 4999] },
    ], { procRoot: root, localIps: new Set(['10.0.0.5', '127.0.0.1']) });
    assert.deepEqual(owners.client('tcp', '10.0.0.5', 41000), { namespace: 'ops', name: 'client' });
    assert.deepEqual(owners.server('tcp', '10.0.0.5', 8080), { namespace: 'default', name: 'web' });
    assert.deepEqual(owners.server('tcp', '10.0.0.5', 9090), { namespace: 'default', name: 'web' }, 'a dual-stack [::] listener answers IPv4');
    assert.equal(owners.server('tcp', '10.0.0.5', 6443), undefined, 'the agent\'s own port');
    assert.equal(owners.server('tcp', '10.42.0.8', 8080), undefined, 'port 8080 of another host');
    assert.equal(owners.server('udp', '10.0.0.5', 8080), undefined, 'another protocol');

    const flow = (src: string, sport: number, dst: string, dport: number, state = 'ESTABLISHED', answered = { src: dst, sport: dport }): Flow =>
      ({ proto: 'tcp', state, orig: { src, dst, sport, dport }, reply: { src: answered.src, dst: src, sport: answered.sport, dport: sport } });
    const t = new TrafficTracker();
    t.observe([], 0, owners);
    t.observe([
      flow('10.0.0.5', 41000, '10.43.0.20', 80, 'ESTABLISHED', { src: '10.42.0.9', sport: 8080 }), // client pod → Service → pod
      flow('10.42.0.7', 50000, '10.0.0.5', 8080, 'TIME_WAIT'), // a pod → web, a short connection already closed
      flow('10.42.0.7', 50001, '10.0.0.5', 9090),
      flow('10.0.0.5', 42000, '10.0.0.5', 8080), // web → web
      flow('10.42.0.7', 50002, '10.0.0.5', 6443), // a pod → the agent (the node, no pod)
    ], 2000, owners);
    const edges = t.edgesNow().map((e) => ({ client: e.clientPod?.name ?? e.client, service: e.service, server: e.serverPod?.name ?? e.server }));
    assert.deepEqual(edges.sort((a, b) => `${a.client}${a.server}`.localeCompare(`${b.client}${b.server}`)), [
      { client: '10.42.0.7', service: undefined, server: '10.0.0.5:6443' },
      { client: '10.42.0.7', service: undefined, server: 'web' },
      { client: '10.42.0.7', service: undefined, server: 'web' },
      { client: 'client', service: '10.43.0.20:80', server: '10.42.0.9:8080' },
    ]);
    assert.equal(t.edgesNow().find((e) => e.serverPod && e.server.endsWith(':8080'))!.connectionsPerSecond, 0.1, 'the closed connection counted as new');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('no host-network pod, or pods without sockets: no owners, nothing read', async () => {
  const root = captured();
  try {
    assert.equal((readSocketOwners([], { procRoot: root })).size, 0);
    assert.equal((readSocketOwners([{ namespace: 'default', name: 'gone', pids: [4999] }], { procRoot: root })).size, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the reader walks descriptors every rescanEvery reads, or at once when the pods\' pids change; the tables every read', () => {
  const root = captured();
  try {
    const reader = new SocketOwnerReader({ procRoot: root, localIps: new Set(['10.0.0.5']), rescanEvery: 3 });
    const pods = [{ namespace: 'default', name: 'web', pids: [4001] }];
    assert.ok(reader.read(pods).server('tcp', '10.0.0.5', 8080), 'first read walks');
    // web opens a connection: its socket is in the table at once, its descriptor seen at the next walk.
    symlinkSync('socket:[5006]', join(root, '4001', 'fd', '50'));
    writeFileSync(join(root, '4001', 'net', 'tcp'), [HEADER, line(0, '00000000:1F90', '00000000:0000', '0A', 5001), line(1, '0500000A:B000', '0900000A:0050', '01', 5006), ''].join('\n'));
    assert.equal(reader.read(pods).client('tcp', '10.0.0.5', 0xb000), undefined, 'cached descriptors');
    assert.equal(reader.read(pods).client('tcp', '10.0.0.5', 0xb000), undefined);
    assert.deepEqual(reader.read(pods).client('tcp', '10.0.0.5', 0xb000), { namespace: 'default', name: 'web' }, 'the read after two cached ones walks again');
    // The listening socket closes: gone from the table, gone at once, without a walk.
    writeFileSync(join(root, '4001', 'net', 'tcp'), [HEADER, ''].join('\n'));
    assert.equal(reader.read(pods).server('tcp', '10.0.0.5', 8080), undefined);
    // Another pod's pids: walked at once (by count this read would not walk).
    writeFileSync(join(root, '4001', 'net', 'tcp'), [HEADER, line(0, '0500000A:A028', '14002B0A:0050', '01', 5002), ''].join('\n'));
    assert.deepEqual(reader.read([...pods, { namespace: 'ops', name: 'client', pids: [4002] }]).client('tcp', '10.0.0.5', 41000), { namespace: 'ops', name: 'client' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
