import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConntrackScanner, parseConntrack, parseConntrackLine, readConntrack, type Flow } from './conntrack.ts';

test('a /proc/net/nf_conntrack line through a Service: the reply comes from the chosen pod (DNAT)', () => {
  const f = parseConntrackLine('ipv4     2 tcp      6 117 TIME_WAIT src=10.42.0.5 dst=10.43.12.7 sport=40112 dport=80 src=10.42.0.9 dst=10.42.0.5 sport=8080 dport=40112 [ASSURED] mark=0 zone=0 use=2');
  assert.deepEqual(f, {
    proto: 'tcp', state: 'TIME_WAIT',
    orig: { src: '10.42.0.5', dst: '10.43.12.7', sport: 40112, dport: 80 },
    reply: { src: '10.42.0.9', dst: '10.42.0.5', sport: 8080, dport: 40112 },
    key: '10.42.0.5 dst=10.43.12.7 sport=40112 dport=80',
  });
});

test('conntrack -L lines, UDP without a state, byte counters when accounting is on; ICMP and junk skipped', () => {
  const text = [
    'udp      17 28 src=10.42.0.5 dst=10.43.0.10 sport=5353 dport=53 packets=1 bytes=60 src=10.42.0.1 dst=10.42.0.5 sport=53 dport=5353 packets=1 bytes=120 mark=0 use=1',
    'icmp     1 29 src=10.42.0.5 dst=10.42.0.6 type=8 code=0 id=7 src=10.42.0.6 dst=10.42.0.5 type=0 code=0 id=7 mark=0 use=1',
    'tcp      6 431999 ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=55300 dport=45813 src=127.0.0.1 dst=127.0.0.1 sport=45813 dport=55300 [ASSURED] mark=0 use=1',
    'garbage',
    '',
  ].join('\n');
  const flows = parseConntrack(text);
  assert.equal(flows.length, 2);
  assert.equal(flows[0].proto, 'udp');
  assert.equal(flows[0].state, '');
  assert.equal(flows[0].bytes, 180);
  assert.equal(flows[0].key, 'udp 10.42.0.5 dst=10.43.0.10 sport=5353 dport=53', 'the original tuple, its counters left out');
  assert.equal(flows[1].state, 'ESTABLISHED');
  assert.equal(flows[1].bytes, undefined);
});

const dnatLine = (sport: number) => `ipv4     2 tcp      6 117 ESTABLISHED src=10.42.0.5 dst=10.43.12.7 sport=${sport} dport=80 src=10.42.0.9 dst=10.42.0.5 sport=8080 dport=${sport} [ASSURED] mark=0 zone=0 use=2`;
const loop4 = 'ipv4     2 tcp      6 431999 ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=55300 dport=45813 src=127.0.0.1 dst=127.0.0.1 sport=45813 dport=55300 [ASSURED] mark=0 zone=0 use=2';
const loop6 = 'ipv6     10 tcp      6 431999 ESTABLISHED src=0000:0000:0000:0000:0000:0000:0000:0001 dst=0000:0000:0000:0000:0000:0000:0000:0001 sport=1 dport=2 src=0000:0000:0000:0000:0000:0000:0000:0001 dst=0000:0000:0000:0000:0000:0000:0000:0001 sport=2 dport=1 mark=0 zone=0 use=2';

test('the scanner gives the same flows whichever way the text is cut into chunks, reusing one Flow object', () => {
  const text = [dnatLine(40001), loop4, 'udp      17 28 src=10.42.0.5 dst=10.43.0.10 sport=5353 dport=53 packets=1 bytes=60 src=10.42.0.1 dst=10.42.0.5 sport=53 dport=5353 packets=1 bytes=120 mark=0 use=1', dnatLine(40002)].join('\n');
  const whole = parseConntrack(text);
  assert.equal(whole.length, 4);
  const bytes = Buffer.from(text, 'latin1');
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const seen: string[] = [];
    let obj: Flow | undefined;
    const sc = new ConntrackScanner((f) => { obj ??= f; assert.equal(f, obj, 'one object for every flow'); seen.push(JSON.stringify(f)); });
    for (let i = 0; i < bytes.length; i += cut) sc.push(bytes, i, Math.min(bytes.length, i + cut));
    sc.end();
    assert.deepEqual(seen, whole.map((f) => JSON.stringify(f)), `chunks of ${cut} bytes`);
    assert.equal(sc.lines, 4);
  }
});

test('loopback flows (127/8, ::1 written in full or short) are dropped before parsing when asked', () => {
  const text = [loop4, loop6, dnatLine(40003), loop6.replace(/0000:0000:0000:0000:0000:0000:0000:0001/g, '::1')].join('\n');
  assert.equal(parseConntrack(text).length, 4);
  const kept = parseConntrack(text, { skipLoopback: true });
  assert.deepEqual(kept.map((f) => f.orig.sport), [40003]);
});

test('readConntrack streams a table larger than its buffer (several slices, lines cut between them)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ct-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(i % 3 === 0 ? dnatLine(30000 + i) : loop4);
    const file = join(dir, 'nf_conntrack');
    writeFileSync(file, lines.join('\n') + '\n');
    const ports: number[] = [];
    const r = await readConntrack((f) => ports.push(f.orig.sport), file);
    assert.ok(lines.join('\n').length > 3 * 64 * 1024, 'the table spans several slices');
    assert.equal(r.entries, 3000);
    assert.equal(r.flows, 1000);
    assert.equal(r.bytes, false);
    assert.deepEqual(ports, lines.map((_, i) => 30000 + i).filter((_, i) => i % 3 === 0));
    assert.ok(r.busyMs >= 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
