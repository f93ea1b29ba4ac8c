/**
 * SPDY/3.1 frames (draft-mbelshe-httpbis-spdy-00 with the 3.1 flow-control changes): their
 * in-memory form, a writer that serialises them and a parser that cuts a byte stream into them.
 * Header blocks are (de)compressed here, so one writer and one parser belong to one connection.
 *
 *   control: |1| version(15)=3 | type(16) | flags(8) | length(24) | payload
 *   data:    |0| stream-id(31)             | flags(8) | length(24) | payload
 */
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './header-codec.ts';

export const SPDY_VERSION = 3;
/** Control frame types used by SPDY/3.1 (CREDENTIAL, 10, is not). */
export const FrameType = {
  SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9,
} as const;
/** FLAG_FIN on DATA, SYN_STREAM, SYN_REPLY and HEADERS. */
export const FLAG_FIN = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM. */
export const FLAG_UNIDIRECTIONAL = 0x02;
/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, UNSUPPORTED_VERSION: 4, CANCEL: 5,
  INTERNAL_ERROR: 6, FLOW_CONTROL_ERROR: 7, STREAM_IN_USE: 8, STREAM_ALREADY_CLOSED: 9, FRAME_TOO_LARGE: 11,
} as const;
/** GOAWAY status codes. */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;
/** SETTINGS ids used here. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** Largest payload a frame's 24-bit length can carry. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { type: 'DATA'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'SYN_STREAM'; streamId: number; associatedTo: number; priority: number; fin: boolean; unidirectional: boolean; headers: SpdyHeaders }
  | { type: 'SYN_REPLY'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'RST_STREAM'; streamId: number; status: number }
  | { type: 'SETTINGS'; clear: boolean; settings: { id: number; flags: number; value: number }[] }
  | { type: 'PING'; id: number }
  | { type: 'GOAWAY'; lastGoodStreamId: number; status: number }
  | { type: 'HEADERS'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'WINDOW_UPDATE'; streamId: number; delta: number };

/** A frame the parser could not accept; `fatal` ones end the session (GOAWAY PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  constructor(message: string, readonly streamId = 0) { super(`spdy: ${message}`); }
}

const u31 = (n: number) => n & 0x7fffffff;

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError('control frame too large');
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

function words(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** Serialises frames for one connection (owns the outgoing header compression context). */
export class FrameWriter {
  private readonly compressor = new HeaderCompressor();

  encode(f: Frame): Buffer {
    switch (f.type) {
      case 'DATA': {
        if (f.data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError('data frame too large');
        const head = words(u31(f.streamId), ((f.fin ? FLAG_FIN : 0) << 24 | f.data.length) >>> 0);
        return Buffer.concat([head, f.data]);
      }
      case 'SYN_STREAM': {
        const fixed = Buffer.alloc(10);
        fixed.writeUInt32BE(u31(f.streamId), 0);
        fixed.writeUInt32BE(u31(f.associatedTo), 4);
        fixed[8] = (f.priority & 0x7) << 5;
        const flags = (f.fin ? FLAG_FIN : 0) | (f.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
        return control(FrameType.SYN_STREAM, flags, Buffer.concat([fixed, this.compressor.compress(f.headers)]));
      }
      case 'SYN_REPLY':
        return control(FrameType.SYN_REPLY, f.fin ? FLAG_FIN : 0, Buffer.concat([words(u31(f.streamId)), this.compressor.compress(f.headers)]));
      case 'HEADERS':
        return control(FrameType.HEADERS, f.fin ? FLAG_FIN : 0, Buffer.concat([words(u31(f.streamId)), this.compressor.compress(f.headers)]));
      case 'RST_STREAM':
        return control(FrameType.RST_STREAM, 0, words(u31(f.streamId), f.status));
      case 'SETTINGS': {
        const body = Buffer.alloc(4 + 8 * f.settings.length);
        body.writeUInt32BE(f.settings.length, 0);
        f.settings.forEach((s, i) => {
          body.writeUInt32BE(((s.flags & 0xff) << 24 | (s.id & 0xffffff)) >>> 0, 4 + i * 8);
          body.writeUInt32BE(s.value >>> 0, 8 + i * 8);
        });
        return control(FrameType.SETTINGS, f.clear ? 1 : 0, body);
      }
      case 'PING':
        return control(FrameType.PING, 0, words(f.id));
      case 'GOAWAY':
        return control(FrameType.GOAWAY, 0, words(u31(f.lastGoodStreamId), f.status));
      case 'WINDOW_UPDATE':
        return control(FrameType.WINDOW_UPDATE, 0, words(u31(f.streamId), u31(f.delta)));
    }
  }
}

/**
 * Cuts the incoming byte stream into frames (owns the incoming header decompression context).
 * Unknown control types are skipped, as the spec asks; malformed frames throw SpdyProtocolError.
 */
export class FrameParser {
  private readonly decompressor = new HeaderDecompressor();
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Adds bytes and returns every frame now complete. */
  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < 8) return [];
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const out: Frame[] = [];
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4) & 0xffffff;
      if (buf.length < 8 + len) break;
      const frame = this.parse(buf.subarray(0, 8), buf.subarray(8, 8 + len));
      if (frame) out.push(frame);
      buf = buf.subarray(8 + len);
    }
    this.pending = buf.length ? [buf] : [];
    this.pendingBytes = buf.length;
    return out;
  }

  private parse(head: Buffer, p: Buffer): Frame | undefined {
    const flags = head[4];
    if (!(head[0] & 0x80)) {
      const streamId = u31(head.readUInt32BE(0));
      if (streamId === 0) throw new SpdyProtocolError('data frame on stream 0');
      return { type: 'DATA', streamId, fin: !!(flags & FLAG_FIN), data: p };
    }
    const version = head.readUInt16BE(0) & 0x7fff;
    if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported version ${version}`);
    const type = head.readUInt16BE(2);
    const need = (n: number) => { if (p.length < n) throw new SpdyProtocolError(`control frame type ${type} too short`); };
    const fin = !!(flags & FLAG_FIN);
    switch (type) {
      case FrameType.SYN_STREAM:
        need(10);
        return {
          type: 'SYN_STREAM', streamId: u31(p.readUInt32BE(0)), associatedTo: u31(p.readUInt32BE(4)), priority: p[8] >> 5,
          fin, unidirectional: !!(flags & FLAG_UNIDIRECTIONAL), headers: this.decompressor.decompress(p.subarray(10)),
        };
      case FrameType.SYN_REPLY:
        need(4);
        return { type: 'SYN_REPLY', streamId: u31(p.readUInt32BE(0)), fin, headers: this.decompressor.decompress(p.subarray(4)) };
      case FrameType.HEADERS:
        need(4);
        return { type: 'HEADERS', streamId: u31(p.readUInt32BE(0)), fin, headers: this.decompressor.decompress(p.subarray(4)) };
      case FrameType.RST_STREAM:
        need(8);
        return { type: 'RST_STREAM', streamId: u31(p.readUInt32BE(0)), status: p.readUInt32BE(4) };
      case FrameType.SETTINGS: {
        need(4);
        const n = p.readUInt32BE(0);
        need(4 + n * 8);
        const settings = Array.from({ length: n }, (_, i) => {
          const idw = p.readUInt32BE(4 + i * 8);
          return { flags: idw >>> 24, id: idw & 0xffffff, value: p.readUInt32BE(8 + i * 8) };
        });
        return { type: 'SETTINGS', clear: !!(flags & 1), settings };
      }
      case FrameType.PING:
        need(4);
        return { type: 'PING', id: p.readUInt32BE(0) };
      case FrameType.GOAWAY:
        need(8);
        return { type: 'GOAWAY', lastGoodStreamId: u31(p.readUInt32BE(0)), status: p.readUInt32BE(4) };
      case FrameType.WINDOW_UPDATE:
        need(8);
        return { type: 'WINDOW_UPDATE', streamId: u31(p.readUInt32BE(0)), delta: u31(p.readUInt32BE(4)) };
      default:
        return undefined;
    }
  }
}
