import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConntrack, type Flow } from './conntrack.ts';
import { FADE_MS, TrafficTracker } from './traffic-tracker.ts';

/** A connection from 10.42.0.5 to the Service 10.43.0.20:80, answered by the pod 10.42.0.9:8080. */
const viaService = (sport: number, state = 'ESTABLISHED'): Flow => ({
  proto: 'tcp', state,
  orig: { src: '10.42.0.5', dst: '10.43.0.20', sport, dport: 80 },
  reply: { src: '10.42.0.9', dst: '10.42.0.5', sport: 8080, dport: sport },
});

test('a client calling a Service once a second: one edge client → service → pod with its rate', () => {
  const t = new TrafficTracker();
  t.observe([], 0);
  const flows: Flow[] = [];
  for (let s = 1; s <= 10; s++) {
    // each call: a new connection, closed at once (TIME_WAIT), and the older ones still in the table
    flows.forEach((f) => { f.state = 'TIME_WAIT'; });
    flows.push(viaService(40000 + s, 'TIME_WAIT'));
    t.observe(flows.map((f) => ({ ...f })), s * 1000);
  }
  const [e] = t.edgesNow();
  assert.equal(t.edgesNow().length, 1);
  assert.deepEqual({ client: e.client, service: e.service, server: e.server, open: e.open }, { client: '10.42.0.5', service: '10.43.0.20:80', server: '10.42.0.9:8080', open: 0 });
  assert.equal(e.connectionsPerSecond, 1);
  // The client stops: TIME_WAIT entries linger, but they are no activity — the edge fades.
  t.observe(flows, 10_000 + FADE_MS + 1000);
  assert.deepEqual(t.edgesNow(), []);
});

test('a TIME_WAIT flow a read skipped (the /proc walk shifts under churn) is not new when listed again: a gone client\'s edge still fades; one listed twice counts once', () => {
  const t = new TrafficTracker();
  t.observe([], 0);
  const flows = Array.from({ length: 20 }, (_, i) => viaService(42000 + i, 'TIME_WAIT'));
  t.observe(flows, 1000);
  assert.equal(t.edgesNow().length, 1);
  // The client is gone; its TIME_WAIT flows stay two minutes. Every sample, another one is skipped
  // by the read and comes back in the next; one is listed twice.
  for (let s = 2; s * 2000 < 1000 + FADE_MS + 4000; s++) {
    const skipped = s % flows.length;
    t.observe([...flows.filter((_, i) => i !== skipped), flows[(s + 1) % flows.length]], s * 2000);
  }
  assert.deepEqual(t.edgesNow(), [], 'the edge faded: no skipped-and-back flow counted as a new connection');
  // A flow never seen before still counts as a new connection (after the absence window, a 4-tuple may come back as a new one).
  t.observe([...flows, viaService(43000, 'TIME_WAIT')], 1000 + FADE_MS + 6000);
  assert.equal(t.edgesNow().length, 1);
  assert.equal(t.edgesNow()[0].open, 0);
  const twice = new TrafficTracker();
  twice.observe([], 0);
  twice.observe([viaService(44000), viaService(44000)], 1000);
  assert.equal(twice.edgesNow()[0].open, 1, 'a flow listed twice in one sample is one connection');
});

test('a long-lived connection keeps its edge; direct pod-to-pod traffic has no service; closed flows from before the start and loopback are ignored', () => {
  const t = new TrafficTracker();
  const direct: Flow = { proto: 'tcp', state: 'ESTABLISHED', orig: { src: '10.42.0.5', dst: '10.42.0.7', sport: 5000, dport: 5432 }, reply: { src: '10.42.0.7', dst: '10.42.0.5', sport: 5432, dport: 5000 } };
  const old = viaService(33333, 'TIME_WAIT');
  const lo: Flow = { ...direct, orig: { ...direct.orig, src: '127.0.0.1', dst: '127.0.0.1' } };
  t.observe([direct, old, lo], 0);
  t.observe([direct, old, lo], FADE_MS * 2);
  const edges = t.edgesNow();
  assert.equal(edges.length, 1);
  assert.equal(edges[0].service, undefined);
  assert.equal(edges[0].server, '10.42.0.7:5432');
  assert.equal(edges[0].open, 1);
});

test('byte rates when the kernel counts bytes', () => {
  const t = new TrafficTracker();
  const f = (bytes: number): Flow => ({ ...viaService(41000), bytes });
  t.observe([f(1000)], 0);
  t.observe([f(3000)], 2000);
  assert.equal(t.edgesNow()[0].bytesPerSecond, 1000);
});

test('a sample fed flow by flow through one reused object keeps nothing of that object', () => {
  const t = new TrafficTracker();
  const reused: Flow = viaService(0);
  const feed = (now: number, ports: number[]) => {
    t.begin(now);
    for (const p of ports) { Object.assign(reused, viaService(p)); t.add(reused); }
    t.end();
  };
  feed(0, []);
  feed(1000, [42001, 42002]);
  Object.assign(reused, { proto: 'udp', orig: { src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2 }, reply: { src: '2.2.2.2', dst: '1.1.1.1', sport: 2, dport: 1 } });
  const [e] = t.edgesNow();
  assert.deepEqual({ proto: e.proto, client: e.client, service: e.service, server: e.server, open: e.open }, { proto: 'tcp', client: '10.42.0.5', service: '10.43.0.20:80', server: '10.42.0.9:8080', open: 2 });
  assert.equal(e.connectionsPerSecond, 0.2);
});

test('flows keyed by the scanner (one slice of the line): a known connection keeps its edge, a new one is counted, an edge gone is not revived by closed flows', () => {
  const line = (sport: number, state: string) => `ipv4 2 tcp 6 117 ${state} src=10.42.0.5 dst=10.43.0.20 sport=${sport} dport=80 packets=${sport % 7} bytes=${sport} src=10.42.0.9 dst=10.42.0.5 sport=8080 dport=${sport} packets=1 bytes=1 [ASSURED] mark=0 use=2`;
  const t = new TrafficTracker();
  t.observe(parseConntrack(line(40001, 'ESTABLISHED')), 0);
  assert.equal(t.edgesNow()[0].open, 1);
  // The same connection (its counters moved: the key leaves them out), and a new one.
  t.observe(parseConntrack([line(40001, 'ESTABLISHED').replace('bytes=40001', 'bytes=99999'), line(40002, 'TIME_WAIT')].join('\n')), 2000);
  const [e] = t.edgesNow();
  assert.equal(t.edgesNow().length, 1);
  assert.equal(e.open, 1, 'the established one, not the closed one');
  assert.equal(e.connectionsPerSecond, 0.1, 'one new connection in the 10 s window');
  // Both closed; after the fade the edge goes and stays gone though the TIME_WAIT entries linger.
  const closed = parseConntrack([line(40001, 'TIME_WAIT'), line(40002, 'TIME_WAIT')].join('\n'));
  t.observe(closed, 4000);
  t.observe(closed, 4000 + FADE_MS + 1000);
  assert.deepEqual(t.edgesNow(), []);
  t.observe(closed, 4000 + FADE_MS + 3000);
  assert.deepEqual(t.edgesNow(), []);
});
