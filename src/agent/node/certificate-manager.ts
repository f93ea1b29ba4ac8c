/**
 * A certificate kept current (client-go's util/certificate Manager, the kubelet's client and serving
 * certificate rotation): loaded from its files when still good, otherwise obtained, then obtained
 * again at a jittered 70–90 % of its life — well before it expires, spread so that nodes do not all
 * renew at once. A failed renewal is retried with back-off (10 s doubling to 5 min) while the current
 * certificate keeps being used. Files are written key first, each atomically, the key 0600.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateInfo } from '../../pki/certificate-info.ts';
import type { KeyPairPem } from '../../pki/certificates.ts';
import type { Logger } from '../../util/log.ts';

export interface CertificateManagerOptions {
  /** For logs and file names: `<dir>/<name>.crt` and `.key`. */
  name: string;
  dir: string;
  /** Obtains a new certificate (a CSR round trip, or the cluster PKI). */
  obtain: () => Promise<KeyPairPem>;
  /** False when a loaded certificate no longer fits (another CA, names that changed): obtained anew. */
  acceptable?: (pair: KeyPairPem) => boolean;
  /** Called with each new certificate after it is written. */
  onRotate?: (pair: KeyPairPem) => void;
  log?: Logger;
  now?: () => number;
  /** Where in its life a certificate is renewed: 0.7 + 0.2 × random() by default. */
  rotateAt?: () => number;
}

const MIN_RETRY_MS = 10_000;
const MAX_RETRY_MS = 5 * 60_000;
/** setTimeout's ceiling: a later deadline is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CertificateManager {
  private pair: KeyPairPem | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private retryMs = MIN_RETRY_MS;
  /** When the certificate in use is due (fixed per certificate: the jitter is drawn once). */
  private due = 0;
  private readonly now: () => number;

  constructor(private readonly opts: CertificateManagerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The certificate in use. */
  current(): KeyPairPem | undefined {
    return this.pair;
  }

  private get files() {
    return { cert: join(this.opts.dir, `${this.opts.name}.crt`), key: join(this.opts.dir, `${this.opts.name}.key`) };
  }

  /** A pair that is unexpired and acceptable, else undefined. */
  private usable(pair: KeyPairPem | undefined): KeyPairPem | undefined {
    if (!pair) return undefined;
    try {
      const info = certificateInfo(pair.cert);
      if (info.notAfter.getTime() <= this.now()) return undefined;
    } catch {
      return undefined;
    }
    return this.opts.acceptable && !this.opts.acceptable(pair) ? undefined : pair;
  }

  private load(): KeyPairPem | undefined {
    const f = this.files;
    if (!existsSync(f.cert) || !existsSync(f.key)) return undefined;
    return { cert: readFileSync(f.cert, 'utf8'), key: readFileSync(f.key, 'utf8') };
  }

  private save(pair: KeyPairPem): void {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    const f = this.files;
    for (const [path, body, mode] of [[f.key, pair.key, 0o600], [f.cert, pair.cert, 0o644]] as const) {
      writeFileSync(`${path}.tmp`, body, { mode });
      renameSync(`${path}.tmp`, path);
    }
  }

  /** When the certificate is to be renewed (nextRotationDeadline). */
  deadline(pair: KeyPairPem): number {
    const info = certificateInfo(pair.cert);
    const life = info.notAfter.getTime() - info.notBefore.getTime();
    const at = this.opts.rotateAt?.() ?? 0.7 + 0.2 * Math.random();
    return info.notBefore.getTime() + life * at;
  }

  /** Loads or obtains the certificate (rejects when it cannot), then keeps it current. */
  async start(): Promise<KeyPairPem> {
    let pair = this.usable(this.load());
    if (!pair) {
      pair = await this.opts.obtain();
      this.save(pair);
      this.opts.log?.info('certificate obtained', { certificate: this.opts.name, notAfter: certificateInfo(pair.cert).notAfter.toISOString() });
    }
    this.use(pair);
    return pair;
  }

  private use(pair: KeyPairPem): void {
    this.pair = pair;
    this.due = this.deadline(pair);
    this.schedule(this.due - this.now());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.rotate(), Math.min(MAX_TIMER_MS, Math.max(0, delayMs)));
    this.timer.unref();
  }

  /** Obtains a new certificate when due, or now with `force`. */
  async rotate(force = false): Promise<void> {
    if (this.stopped) return;
    if (!force && this.pair && this.due > this.now() + 1000 && this.usable(this.pair)) {
      // A timer capped by MAX_TIMER_MS woke up early.
      this.schedule(this.due - this.now());
      return;
    }
    try {
      const pair = await this.opts.obtain();
      if (this.stopped) return;
      this.save(pair);
      this.retryMs = MIN_RETRY_MS;
      this.opts.log?.info('certificate rotated', { certificate: this.opts.name, notAfter: certificateInfo(pair.cert).notAfter.toISOString() });
      this.use(pair);
      this.opts.onRotate?.(pair);
    } catch (err) {
      this.opts.log?.warn('certificate rotation failed; retrying', { certificate: this.opts.name, error: (err as Error).message, retryInMs: this.retryMs });
      this.schedule(this.retryMs);
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
