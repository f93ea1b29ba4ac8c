/**
 * One DNS message in, one out: decodes the query, answers it from the resolver or the forwarder,
 * and encodes the reply with the header bits RFC 1035 asks for. Knows nothing of sockets: the server
 * passes bytes and the transport (UDP replies must fit the client's size, else TC is set and the
 * client retries over TCP).
 *
 *   malformed but with a header → FORMERR; shorter than a header, or a response → dropped
 *   opcode other than QUERY → NOTIMP; not exactly one question → FORMERR; class other than IN → REFUSED
 *   authoritative answers set AA; every reply sets RA and copies RD
 */
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer } from 'dns-packet';
import type { Logger } from '../util/log.ts';
import type { Forwarder } from './forwarder.ts';
import type { RecordSource } from './record-index.ts';
import { resolve, type ResolverConfig } from './resolver.ts';
import type { AnswerCache } from './answer-cache.ts';

const { AUTHORITATIVE_ANSWER: AA, TRUNCATED_RESPONSE: TC, RECURSION_DESIRED: RD, RECURSION_AVAILABLE: RA } = dnsPacket;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type RcodeName = keyof typeof RCODE;

/** Largest UDP reply without EDNS (RFC 1035 §4.2.1), and the most we send with it. */
export const UDP_MIN = 512;
const UDP_MAX = 4096;
/** The payload size we advertise in our OPT (the DNS Flag Day 2020 value). */
const OUR_EDNS_SIZE = 1232;

export interface MessageDeps {
  source: RecordSource;
  config: ResolverConfig;
  /** Absent: out-of-zone questions get REFUSED. */
  forwarder?: Forwarder;
  /** Reuses encoded cluster-zone answers while the source's generation stays (answer-cache.ts). */
  cache?: AnswerCache;
  logger?: Logger;
}

/** The reply bytes for `query`, or undefined to send nothing. */
export async function handleMessage(query: Buffer, transport: 'udp' | 'tcp', deps: MessageDeps): Promise<Buffer | undefined> {
  if (query.length < 12) return undefined;
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response: never answer one (reflection loops)
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return headerOnly(id, opcode, flags & RD, 'NOTIMP');
  const generation = deps.source.generation?.();
  const cached = generation === undefined ? undefined : deps.cache?.get(query, transport, generation);
  if (cached) return cached;
  let msg: DecodedPacket;
  try {
    msg = dnsPacket.decode(query);
  } catch {
    return headerOnly(id, opcode, flags & RD, 'FORMERR');
  }
  const questions = msg.questions ?? [];
  if (questions.length !== 1) return headerOnly(id, opcode, flags & RD, 'FORMERR');
  const q = questions[0];
  const opt = (msg.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');
  const limit = transport === 'tcp' ? 65535 : opt ? Math.min(UDP_MAX, Math.max(UDP_MIN, opt.udpPayloadSize)) : UDP_MIN;
  const base = { id, rd: flags & RD, opt: !!opt, question: q };

  if (q.class !== undefined && q.class !== 'IN') return encodeReply({ ...base, aa: false, rcode: 'REFUSED', answers: [], authorities: [], additionals: [] }, limit);
  const res = resolve(q, deps.source, deps.config);
  if (res.kind === 'answer') {
    const reply = encodeReply({ ...base, aa: true, ...res }, limit);
    if (generation !== undefined) deps.cache?.set(query, transport, generation, reply);
    return reply;
  }

  if (!deps.forwarder) return encodeReply({ ...base, aa: false, rcode: 'REFUSED', answers: [], authorities: [], additionals: [] }, limit);
  const reply = await deps.forwarder.forward(query, transport);
  if (!reply) {
    deps.logger?.debug('dns forward failed', { name: q.name, type: q.type });
    return encodeReply({ ...base, aa: false, rcode: 'SERVFAIL', answers: [], authorities: [], additionals: [] }, limit);
  }
  if (reply.length <= limit) return reply;
  // A TCP upstream reply too big for this UDP client: header and question only, TC set.
  return truncated(reply, q, opt !== undefined);
}

interface Reply {
  id: number;
  rd: number;
  aa: boolean;
  rcode: RcodeName;
  opt: boolean;
  question: DecodedPacket['questions'] extends Array<infer Q> | undefined ? Q : never;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

const ourOpt = (): OptAnswer => ({ type: 'OPT', name: '.', udpPayloadSize: OUR_EDNS_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] });

/** Encodes a reply; one bigger than `limit` goes out empty with TC (no partial RRsets, RFC 2181 §9). */
export function encodeReply(r: Reply, limit: number): Buffer {
  const flags = (r.aa ? AA : 0) | r.rd | RA | RCODE[r.rcode];
  const extra = r.opt ? [ourOpt()] : [];
  const full = { type: 'response' as const, id: r.id, flags, questions: [r.question], answers: r.answers, authorities: r.authorities, additionals: [...r.additionals, ...extra] };
  if (dnsPacket.encodingLength(full) <= limit) return dnsPacket.encode(full);
  return dnsPacket.encode({ ...full, flags: flags | TC, answers: [], authorities: [], additionals: extra });
}

function truncated(reply: Buffer, question: Reply['question'], opt: boolean): Buffer {
  const flags = reply.readUInt16BE(2) & 0x7fff;
  return dnsPacket.encode({ type: 'response', id: reply.readUInt16BE(0), flags: flags | TC, questions: [question], additionals: opt ? [ourOpt()] : [] });
}

/** A bare header: for messages whose question cannot be trusted. */
function headerOnly(id: number, opcode: number, rd: number, rcode: RcodeName): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | (opcode << 11) | rd | RA | RCODE[rcode], 2);
  return b;
}
