/**
 * One pass over a layer blob being downloaded: the bytes are verified against the layer digest and
 * size while they are written to a temp file and, at the same time, decompressed, verified against
 * the diffID and extracted into a temp dir. ImageStore.putLayerStream decides what to commit.
 *
 *   src ─▶ DigestVerifier ─▶ Tee ─┬─▶ blob file (tmp/)
 *    ▲                             └─▶ openExtraction: gunzip ─▶ diffID ─▶ tar ─▶ layer dir (tmp/)
 *    └──── recycle(chunk) once both writes of it completed (pooled http sources only)
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import { DigestVerifier } from './digest.ts';
import { open } from 'node:fs/promises';
import type { LayerRecord } from './image-store.ts';
import { CHUNK, openExtraction, writeOrWait, type LayerCompression } from './layer-unpack.ts';
import { recyclerOf } from './pooled-http.ts';

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
  const result: IntakeResult = {};
  const x = openExtraction(compression, layer.diffID, dirTmp);
  const extracting = x.done.catch((e: Error) => {
    result.extractErr = e;
  });
  const recycle = x.consumesOnCallback ? recyclerOf(src) : undefined;
  try {
    await pipeline(src, new DigestVerifier(layer.digest, layer.size, onBytes), new Tee(createWriteStream(blobTmp, { highWaterMark: CHUNK }), x.input, recycle));
    // The fsync overlaps the end of the extraction.
    result.synced = syncFile(blobTmp);
    result.synced.catch(() => undefined);
  } catch (e) {
    result.downloadErr = e as Error;
    src.destroy();
    x.input.destroy(result.downloadErr);
  }
  await extracting;
  return result;
}

/**
 * Writes every chunk to `file` and to `side` (the extraction), waiting until both have taken it.
 * When the side fails (tar error, bad diffID) the file keeps being written, so the blob is still
 * verified and the error reported is the real one (a corrupt download rather than what tar made
 * of it). With `recycle` (a pooled source), each chunk is handed back once both writes of it
 * have completed — not merely been queued — so its memory can be read into again.
 */
class Tee extends Writable {
  private fileErr: Error | undefined;

  constructor(
    private readonly file: Writable,
    private readonly side: Writable,
    private readonly recycle?: (chunk: Buffer) => void,
  ) {
    super({ highWaterMark: CHUNK });
    file.on('error', (e) => {
      this.fileErr = e;
      this.destroy(e);
    });
    side.on('error', () => undefined); // the extraction reports it
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    let taken = 2;
    const onTaken = () => {
      if (--taken === 0) cb();
    };
    let completed = 0;
    // A failed write may not be done with the chunk: only two clean completions hand it back.
    const onCompleted = this.recycle ? (err?: Error | null) => !err && ++completed === 2 && this.recycle!(chunk) : undefined;
    writeOrWait(this.file, chunk, onTaken, onCompleted);
    writeOrWait(this.side, chunk, onTaken, onCompleted);
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
