import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import { FrameParser, FrameWriter, SpdyProtocolError, type Frame } from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, decodeHeaderBlock, encodeHeaderBlock } from './header-codec.ts';

function adler32(buf: Buffer): number {
  let a = 1, b = 0;
  for (const x of buf) { a = (a + x) % 65521; b = (b + a) % 65521; }
  return ((b << 16) | a) >>> 0;
}

test('the SPDY/3 dictionary has the size and Adler-32 the spec gives', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(adler32(SPDY3_DICTIONARY), 0xe3c6a7c2);
});

const samples: Frame[] = [
  { type: 'SYN_STREAM', streamId: 1, associatedTo: 0, priority: 3, fin: false, unidirectional: false, headers: { streamtype: 'error', port: '8080', requestid: '0' } },
  { type: 'SYN_STREAM', streamId: 3, associatedTo: 1, priority: 0, fin: true, unidirectional: true, headers: { streamtype: 'data', port: '8080', requestid: '0' } },
  { type: 'SYN_REPLY', streamId: 1, fin: false, headers: {} },
  { type: 'HEADERS', streamId: 3, fin: true, headers: { multi: ['a', 'b'] } },
  { type: 'DATA', streamId: 3, fin: false, data: Buffer.from('hello') },
  { type: 'DATA', streamId: 0x7fffffff, fin: true, data: Buffer.alloc(0) },
  { type: 'RST_STREAM', streamId: 5, status: 5 },
  { type: 'SETTINGS', clear: false, settings: [{ id: 7, flags: 1, value: 1 << 20 }, { id: 4, flags: 0, value: 100 }] },
  { type: 'PING', id: 0xfffffffe },
  { type: 'GOAWAY', lastGoodStreamId: 9, status: 1 },
  { type: 'WINDOW_UPDATE', streamId: 0, delta: 0x7fffffff },
];

test('every frame type round-trips, also when the bytes arrive one at a time', () => {
  const w = new FrameWriter();
  const bytes = Buffer.concat(samples.map((f) => w.encode(f)));
  assert.deepEqual(new FrameParser().push(bytes), samples);
  const p = new FrameParser();
  const got: Frame[] = [];
  for (let i = 0; i < bytes.length; i++) got.push(...p.push(bytes.subarray(i, i + 1)));
  assert.deepEqual(got, samples);
});

test('frame layouts are the ones on the wire', () => {
  const w = new FrameWriter();
  assert.equal(w.encode({ type: 'DATA', streamId: 5, fin: true, data: Buffer.from('ab') }).toString('hex'), '00000005' + '01000002' + '6162');
  assert.equal(w.encode({ type: 'PING', id: 7 }).toString('hex'), '80030006' + '00000004' + '00000007');
  assert.equal(w.encode({ type: 'WINDOW_UPDATE', streamId: 3, delta: 65536 }).toString('hex'), '80030009' + '00000008' + '00000003' + '00010000');
  assert.equal(w.encode({ type: 'RST_STREAM', streamId: 3, status: 5 }).toString('hex'), '80030003' + '00000008' + '00000003' + '00000005');
});

test('a SYN_STREAM captured from another implementation decodes', () => {
  const wire = Buffer.from('800300010000002c0000000100000000000078f9e3c6a7c202e50e507ab442a45a77d7105006b32a4804974d8cfa00000000ffff', 'hex');
  assert.deepEqual(new FrameParser().push(wire), [
    { type: 'SYN_STREAM', streamId: 1, associatedTo: 0, priority: 0, fin: false, unidirectional: false, headers: { ':method': 'GET', ':path': '/' } },
  ]);
});

test('header compression is one zlib stream across the frames of a connection', () => {
  const c = new HeaderCompressor();
  const h = { streamtype: 'data', port: '8080', requestid: '12' };
  const first = c.compress(h);
  const second = c.compress(h);
  assert.ok(second.length < first.length / 2, `the repeat refers back to the first block (${second.length} vs ${first.length} bytes)`);
  // The second block cannot be read without the first...
  assert.throws(() => new HeaderDecompressor().decompress(second));
  // ...but in order it can, and so can a plain streaming inflater (what Go's framer is).
  const d = new HeaderDecompressor();
  assert.deepEqual(d.decompress(first), h);
  assert.deepEqual(d.decompress(second), h);
  const raw = zlib.inflateSync(Buffer.concat([first, second]), { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual(raw, Buffer.concat([encodeHeaderBlock(h), encodeHeaderBlock(h)]));
});

test('the decompressor reads what a streaming deflater (Go-like) writes, window sliding past 32 KiB', () => {
  const deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  const blocks: Buffer[] = [];
  deflate.on('data', (b: Buffer) => blocks.push(b));
  const d = new HeaderDecompressor();
  const headers = Array.from({ length: 40 }, (_, i) => ({ requestid: String(i), filler: 'x'.repeat(1000) + i }));
  return (async () => {
    for (const h of headers) {
      blocks.length = 0;
      deflate.write(encodeHeaderBlock(h));
      await new Promise<void>((r) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(d.decompress(Buffer.concat(blocks)), h);
    }
    deflate.close();
  })();
});

test('header blocks: names are lowercased, NUL separates values, truncation is an error', () => {
  const block = encodeHeaderBlock({ Port: '80', 'x-multi': ['1', '2'] });
  assert.deepEqual(decodeHeaderBlock(block), { port: '80', 'x-multi': ['1', '2'] });
  assert.throws(() => decodeHeaderBlock(block.subarray(0, block.length - 1)), /truncated/);
});

test('unknown control frames are skipped; other SPDY versions are refused', () => {
  const unknown = Buffer.from('8003000a' + '00000004' + 'deadbeef', 'hex');
  const ping = new FrameWriter().encode({ type: 'PING', id: 1 });
  assert.deepEqual(new FrameParser().push(Buffer.concat([unknown, ping])), [{ type: 'PING', id: 1 }]);
  assert.throws(() => new FrameParser().push(Buffer.from('80020006' + '00000004' + '00000001', 'hex')), SpdyProtocolError);
});
