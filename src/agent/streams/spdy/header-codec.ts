/**
 * SPDY/3 header blocks: the name/value block format and its compression. Each direction of a
 * connection is ONE zlib stream (with the SPDY/3 dictionary) that spans every header-bearing frame;
 * each frame's block ends with a sync flush, so a frame decompresses on its own, in order.
 *
 * Node's zlib engines are asynchronous streams (the `*Sync` helpers close theirs after one call),
 * but frames must be built and parsed in order and synchronously. Because every block ends on a
 * sync flush (byte-aligned, no block spans two frames), the only state carried from one frame to
 * the next is deflate's 32 KiB window: so each frame is (de)compressed with a one-shot raw
 * deflate/inflate whose preset dictionary is the last 32 KiB of the stream's output so far
 * (initially the SPDY/3 dictionary). The first frame of a direction carries the zlib header.
 */
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';

/** Header names (lowercase) → values; several values of one name travel NUL-separated. */
export type SpdyHeaders = Record<string, string | string[]>;

/** Serialises a header block (uncompressed): u32 count, then u32-length-prefixed names and values. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers).map(([k, v]) => [Buffer.from(k.toLowerCase()), Buffer.from(Array.isArray(v) ? v.join('\0') : v)] as const);
  const size = 4 + entries.reduce((n, [k, v]) => n + 8 + k.length + v.length, 0);
  const out = Buffer.alloc(size);
  let o = out.writeUInt32BE(entries.length, 0);
  for (const [k, v] of entries) {
    o = out.writeUInt32BE(k.length, o); o += k.copy(out, o);
    o = out.writeUInt32BE(v.length, o); o += v.copy(out, o);
  }
  return out;
}

/** Parses an uncompressed header block; throws on a truncated or malformed one. */
export function decodeHeaderBlock(buf: Buffer): SpdyHeaders {
  const need = (o: number, n: number) => { if (o + n > buf.length) throw new Error('spdy: truncated header block'); };
  need(0, 4);
  const count = buf.readUInt32BE(0);
  const out: SpdyHeaders = {};
  let o = 4;
  for (let i = 0; i < count; i++) {
    need(o, 4); const kl = buf.readUInt32BE(o); o += 4;
    need(o, kl); const name = buf.toString('utf8', o, o + kl).toLowerCase(); o += kl;
    need(o, 4); const vl = buf.readUInt32BE(o); o += 4;
    need(o, vl); const values = buf.toString('utf8', o, o + vl).split('\0'); o += vl;
    const prev = out[name];
    const all = prev === undefined ? values : [...(Array.isArray(prev) ? prev : [prev]), ...values];
    out[name] = all.length === 1 ? all[0] : all;
  }
  return out;
}

/** First value of a header, or undefined. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const WINDOW = 32 * 1024;
/** zlib stream header: deflate, 32 KiB window, FDICT set, check bits; then the dictionary's Adler-32. */
const ZLIB_HEADER = Buffer.from([0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2]);
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

/** The last 32 KiB of everything the stream has produced, the dictionary first. */
class History {
  constructor(private buf: Buffer = SPDY3_DICTIONARY) {}
  get window(): Buffer { return this.buf; }
  append(block: Buffer): void {
    const all = Buffer.concat([this.buf, block]);
    this.buf = all.length > WINDOW ? all.subarray(all.length - WINDOW) : all;
  }
}

/** Compresses header blocks for one direction of one connection. */
export class HeaderCompressor {
  private readonly history = new History();
  private started = false;

  compress(headers: SpdyHeaders): Buffer {
    const block = encodeHeaderBlock(headers);
    const out = zlib.deflateRawSync(block, { ...SYNC, dictionary: this.history.window });
    this.history.append(block);
    if (this.started) return out;
    this.started = true;
    return Buffer.concat([ZLIB_HEADER, out]);
  }
}

/** Decompresses the header blocks received on one connection. */
export class HeaderDecompressor {
  private history = new History();
  private started = false;

  decompress(block: Buffer): SpdyHeaders {
    let body = block;
    if (!this.started) {
      if (block.length < 2 || (block[0] & 0x0f) !== 8 || ((block[0] << 8) | block[1]) % 31 !== 0) throw new Error('spdy: header block is not a zlib stream');
      if (block[1] & 0x20) {
        if (block.length < 6 || !block.subarray(2, 6).equals(ZLIB_HEADER.subarray(2))) throw new Error('spdy: header block names a dictionary other than SPDY/3\'s');
        body = block.subarray(6);
      } else {
        this.history = new History(Buffer.alloc(0)); // a peer without the dictionary
        body = block.subarray(2);
      }
      this.started = true;
    }
    const raw = zlib.inflateRawSync(body, { ...SYNC, dictionary: this.history.window });
    this.history.append(raw);
    return decodeHeaderBlock(raw);
  }
}
