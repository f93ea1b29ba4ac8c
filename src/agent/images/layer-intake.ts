/**
 * One pass over a layer blob being downloaded: the bytes are verified against the layer digest and
 * size while they are written to a temp file and, at the same time, decompressed, verified against
 * the diffID and extracted into a temp dir. ImageStore.putLayerStream decides what to commit.
 *
 *   src ─▶ DigestVerifier ─▶ Tee ─┬─▶ blob file (tmp/)
 *                                  └─▶ PassThrough ─▶ extractLayer ─▶ layer dir (tmp/)
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { DigestVerifier } from './digest.ts';
import { open } from 'node:fs/promises';
import type { LayerRecord } from './image-store.ts';
import { CHUNK, extractLayer, writeOrWait, type LayerCompression } from './layer-unpack.ts';

/** What happened on each side; `synced` settles when the blob file is on disk (only without downloadErr). */
export interface IntakeResult {
  downloadErr?: Error;
  extractErr?: Error;
  synced?: Promise<void>;
}

/** Runs the download and the extraction to their ends; never rejects (errors are in the result). */
export async function downloadAndExtract(
  src: Readable, layer: LayerRecord, compression: LayerCompression, blobTmp: string, dirTmp: string, onBytes?: (n: number) => void,
): Promise<IntakeResult> {
  // The extraction side gets its own buffer so a slow tar does not stall the file write more than needed.
  const side = new PassThrough({ highWaterMark: CHUNK });
  const result: IntakeResult = {};
  const extracting = extractLayer(side, compression, layer.diffID, dirTmp).catch((e: Error) => {
    result.extractErr = e;
  });
  try {
    await pipeline(src, new DigestVerifier(layer.digest, layer.size, onBytes), new Tee(createWriteStream(blobTmp, { highWaterMark: CHUNK }), side));
    // The fsync overlaps the end of the extraction.
    result.synced = syncFile(blobTmp);
    result.synced.catch(() => undefined);
  } catch (e) {
    result.downloadErr = e as Error;
    src.destroy();
    side.destroy(result.downloadErr);
  }
  await extracting;
  return result;
}

/**
 * Writes every chunk to `file` and to `side` (the extraction), waiting for both. When the side
 * fails (tar error, bad diffID) the file keeps being written, so the blob is still verified and
 * the error reported is the real one (a corrupt download rather than what tar made of it).
 */
class Tee extends Writable {
  private fileErr: Error | undefined;

  constructor(
    private readonly file: Writable,
    private readonly side: Writable,
  ) {
    super({ highWaterMark: CHUNK });
    file.on('error', (e) => {
      this.fileErr = e;
      this.destroy(e);
    });
    side.on('error', () => undefined); // the extraction reports it
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    let waiting = 2;
    const done = () => {
      if (--waiting === 0) cb();
    };
    if (this.file.write(chunk)) done();
    else this.file.once('drain', done);
    writeOrWait(this.side, chunk, done);
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (!this.side.destroyed) this.side.end();
    this.file.end();
    this.file.once('close', () => cb(this.fileErr));
  }

  // Also called after a normal finish (autoDestroy): only an error tears the outputs down.
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (err) {
      this.file.destroy();
      this.side.destroy(err);
    }
    cb(err);
  }
}

/** fsyncs a file. */
export async function syncFile(p: string): Promise<void> {
  const fh = await open(p, 'r');
  await fh.sync().finally(() => fh.close());
}
