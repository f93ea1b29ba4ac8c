import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { DnsIndex } from './record-index.ts';
import { handleMessage, type MessageDeps } from './message.ts';
import { decodeReply } from './dns-client.fixture.ts';
import { AnswerCache } from './answer-cache.ts';

function deps(): MessageDeps {
  const idx = new DnsIndex();
  idx.upsertService({ metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.20' } });
  idx.upsertService({ metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None' } });
  const endpoints = Array.from({ length: 40 }, (_, i) => ({ addresses: [`10.42.0.${i + 1}`] }));
  idx.upsertSlice({ metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } }, addressType: 'IPv4', endpoints });
  return { source: idx, config: { zone: 'cluster.local', ttl: 5, negativeTtl: 5 } };
}

const query = (name: string, type: 'A' | 'SRV' = 'A', extra: Partial<dnsPacket.Packet> = {}) =>
  dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], ...extra });

test('authoritative answer: AA, RA, RD copied, id and question echoed', async () => {
  const out = decodeReply((await handleMessage(query('WEB.default.svc.cluster.local'), 'udp', deps()))!);
  assert.equal(out.id, 4242);
  assert.equal(out.rcode, 'NOERROR');
  assert.ok(out.flag_qr && out.flag_aa && out.flag_ra && out.flag_rd);
  assert.deepEqual(out.questions, [{ name: 'WEB.default.svc.cluster.local', type: 'A', class: 'IN' }]);
  assert.equal((out.answers?.[0] as { data: string }).data, '10.43.0.20');
  const nx = decodeReply((await handleMessage(query('nope.default.svc.cluster.local'), 'udp', deps()))!);
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authorities?.[0].type, 'SOA');
});

test('UDP replies over 512 bytes are truncated (TC, no records); TCP and a big EDNS size carry them all', async () => {
  const d = deps();
  const udp = await handleMessage(query('big.default.svc.cluster.local'), 'udp', d);
  const u = decodeReply(udp!);
  assert.ok(udp!.length <= 512);
  assert.ok(u.flag_tc, 'TC set');
  assert.deepEqual(u.answers, []);
  const t = decodeReply((await handleMessage(query('big.default.svc.cluster.local'), 'tcp', d))!);
  assert.ok(!t.flag_tc);
  assert.equal(t.answers?.length, 40);
  const edns = query('big.default.svc.cluster.local', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] });
  const e = decodeReply((await handleMessage(edns, 'udp', d))!);
  assert.ok(!e.flag_tc);
  assert.equal(e.answers?.length, 40);
  assert.equal(e.additionals?.[0].type, 'OPT', 'EDNS answered with EDNS');
});

test('malformed, non-query and odd messages', async () => {
  const d = deps();
  assert.equal(await handleMessage(Buffer.from([1, 2, 3]), 'udp', d), undefined, 'shorter than a header: dropped');
  const garbage = Buffer.concat([query('web.default.svc.cluster.local').subarray(0, 12), Buffer.from([63, 1, 2])]);
  const fe = decodeReply((await handleMessage(garbage, 'udp', d))!);
  assert.equal(fe.rcode, 'FORMERR');
  assert.equal(fe.id, 4242);
  const status = query('web.default.svc.cluster.local');
  status.writeUInt16BE(status.readUInt16BE(2) | (2 << 11), 2); // opcode STATUS
  const ni = decodeReply((await handleMessage(status, 'udp', d))!);
  assert.equal(ni.rcode, 'NOTIMP');
  assert.equal(ni.opcode, 'STATUS');
  const response = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'web.default.svc.cluster.local', type: 'A' }] });
  assert.equal(await handleMessage(response, 'udp', d), undefined, 'responses are never answered');
  const two = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
  assert.equal(decodeReply((await handleMessage(two, 'udp', d))!).rcode, 'FORMERR');
  const chaos = dnsPacket.encode({ type: 'query', id: 8, questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] });
  assert.equal(decodeReply((await handleMessage(chaos, 'udp', d))!).rcode, 'REFUSED');
  const outside = decodeReply((await handleMessage(query('example.com'), 'udp', d))!);
  assert.equal(outside.rcode, 'REFUSED', 'no upstreams: refused');
  assert.ok(!outside.flag_aa);
});

test('answer cache: a repeated question is answered from the cache with its own id, until the records change', async () => {
  const d = { ...deps(), cache: new AnswerCache() };
  const idx = d.source as DnsIndex;
  let decodes = 0;
  const realDecode = dnsPacket.decode;
  const ask = async (id: number, transport: 'udp' | 'tcp' = 'udp') => {
    const q = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }] });
    (dnsPacket as { decode: typeof realDecode }).decode = ((...a: Parameters<typeof realDecode>) => { decodes++; return realDecode(...a); }) as typeof realDecode;
    let reply: Buffer | undefined;
    try { reply = await handleMessage(q, transport, d); } finally { (dnsPacket as { decode: typeof realDecode }).decode = realDecode; }
    return decodeReply(reply!);
  };
  const first = await ask(1);
  assert.equal(decodes, 1);
  const second = await ask(2);
  assert.equal(decodes, 1, 'served from the cache');
  assert.equal(second.id, 2);
  assert.deepEqual(second.answers, first.answers);
  assert.equal((await ask(3, 'tcp')).id, 3);
  assert.equal(decodes, 2, 'TCP is cached apart from UDP');
  idx.upsertService({ metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.21' } });
  const after = await ask(4);
  assert.equal((after.answers?.[0] as { data: string }).data, '10.43.0.21', 'a change drops the cache');
  assert.equal(decodes, 3);
});
