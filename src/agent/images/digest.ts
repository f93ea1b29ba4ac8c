/** sha256 digests: computing them and verifying streams against them. */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** `sha256:<hex>` of a buffer. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of `sha256:<hex>`; throws for other algorithms or malformed digests. */
export function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new Error(`unsupported or malformed digest "${digest}"`);
  return m[1]!;
}

/**
 * A pass-through stream that hashes what flows through it and, at the end, fails with an error
 * when the content does not match `expected` (or `expectedSize`, when given). Nothing that reads
 * from it past the end can mistake corrupt content for good: the error is raised before 'end'.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash = createHash('sha256');
  /** Bytes seen so far. */
  bytes = 0;

  /** @param expected `sha256:<hex>` the content must hash to. */
  constructor(
    readonly expected: string,
    private readonly expectedSize?: number,
    private readonly onBytes?: (n: number) => void,
  ) {
    // Room for a few socket reads (64 KB each) so the source is not paused after every chunk.
    super({ highWaterMark: 1 << 20 });
    digestHex(expected);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) {
      cb(new Error(`content for ${this.expected} is larger than the expected ${this.expectedSize} bytes`));
      return;
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const got = `sha256:${this.hash.digest('hex')}`;
    if (got !== this.expected) {
      cb(new Error(`digest mismatch: expected ${this.expected}, got ${got}`));
    } else if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      cb(new Error(`size mismatch for ${this.expected}: expected ${this.expectedSize}, got ${this.bytes}`));
    } else cb();
  }
}
