import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConntrack, parseConntrackLine } from './conntrack.ts';

test('a /proc/net/nf_conntrack line through a Service: the reply comes from the chosen pod (DNAT)', () => {
  const f = parseConntrackLine('ipv4     2 tcp      6 117 TIME_WAIT src=10.42.0.5 dst=10.43.12.7 sport=40112 dport=80 src=10.42.0.9 dst=10.42.0.5 sport=8080 dport=40112 [ASSURED] mark=0 zone=0 use=2');
  assert.deepEqual(f, {
    proto: 'tcp', state: 'TIME_WAIT',
    orig: { src: '10.42.0.5', dst: '10.43.12.7', sport: 40112, dport: 80 },
    reply: { src: '10.42.0.9', dst: '10.42.0.5', sport: 8080, dport: 40112 },
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
  assert.equal(flows[1].state, 'ESTABLISHED');
  assert.equal(flows[1].bytes, undefined);
});
