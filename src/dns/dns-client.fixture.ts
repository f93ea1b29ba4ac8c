/**
 * A minimal DNS client over UDP and TCP built on dns-packet, for the tests and the benchmark (so a
 * query is the real wire format on a real socket). Not used by the server.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket, type Packet } from 'dns-packet';

/** A decoded reply: dns-packet's types omit the `rcode` and `opcode` it decodes. */
export type Reply = DecodedPacket & { rcode: string; opcode: string };

export function decodeReply(buf: Buffer): Reply {
  return dnsPacket.decode(buf) as Reply;
}

let nextId = 1;

/** A query packet (RD set, fresh id) for `name`/`type`; `edns`: advertise this UDP size. */
export function makeQuery(name: string, type: string, edns?: number): Packet {
  const p: Packet = { type: 'query', id: (nextId = (nextId % 65535) + 1), flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A', class: 'IN' }] };
  if (edns) p.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }];
  return p;
}

/** One UDP query to host:port; rejects after `timeoutMs`. Also returns the reply's size on the wire. */
export function udpQuery(port: number, packet: Packet, opts: { host?: string; timeoutMs?: number } = {}): Promise<Reply & { size: number }> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sock.close(); reject(new Error('udp query timed out')); }, opts.timeoutMs ?? 3000);
    sock.on('message', (msg) => {
      if (msg.readUInt16BE(0) !== packet.id) return;
      clearTimeout(timer);
      sock.close();
      resolve(Object.assign(decodeReply(msg), { size: msg.length }));
    });
    sock.on('error', (err) => { clearTimeout(timer); sock.close(); reject(err); });
    sock.send(dnsPacket.encode(packet), port, opts.host ?? '127.0.0.1');
  });
}

/** Several queries on ONE TCP connection (length-prefixed); replies in the order of `packets`. */
export function tcpQueries(port: number, packets: Packet[], opts: { host?: string; timeoutMs?: number } = {}): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: opts.host ?? '127.0.0.1', port });
    const got = new Map<number, Reply>();
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`tcp queries timed out (${got.size}/${packets.length})`)); }, opts.timeoutMs ?? 3000);
    sock.on('connect', () => { for (const p of packets) sock.write(dnsPacket.streamEncode(p)); });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = decodeReply(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        got.set(msg.id!, msg);
      }
      if (got.size === packets.length) {
        clearTimeout(timer);
        sock.end();
        resolve(packets.map((p) => got.get(p.id!)!));
      }
    });
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}
