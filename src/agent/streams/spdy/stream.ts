/**
 * One SPDY stream as a Node Duplex: what the peer sends on it is readable, what is written goes
 * out as DATA frames (split to the send window when the session enforces it), `end()` sends FIN.
 *
 * Receive flow control: DATA counts against the window we advertised; bytes are acknowledged with
 * WINDOW_UPDATE once the reader has taken them (`_read`) and half a window is outstanding, so a
 * slow reader stops a compliant sender. The readable high-water mark is one window: a sender that
 * ignores windows (Go's spdystream never sends or waits for WINDOW_UPDATE) makes `push` return
 * false, and the session then pauses the transport until this stream is read (TCP backpressure).
 */
import { Duplex } from 'node:stream';
import type { SpdyHeaders } from './header-codec.ts';
import { RstStatus } from './frames.ts';

/** Largest DATA payload we send in one frame. */
export const MAX_DATA_FRAME = 32 * 1024;

/** What a stream needs from its session (session.ts implements it). */
export interface StreamHost {
  readonly receiveWindow: number;
  /** Writes a DATA frame; resolves once the transport accepted it (after 'drain' if it was full). */
  sendData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<void>;
  sendReply(stream: SpdyStream, headers: SpdyHeaders): void;
  sendReset(stream: SpdyStream, status: number): void;
  sendWindowUpdate(streamId: number, delta: number): void;
  /** Resolves with how many bytes may be sent now (> 0); rejects if the stream dies meanwhile. */
  sendAllowance(stream: SpdyStream, wanted: number): Promise<number>;
  /** The stream is blocked on its reader (resume the transport when it reads). */
  readerBlocked(stream: SpdyStream, blocked: boolean): void;
  /** Both directions are done or the stream was reset: forget it. */
  streamDone(stream: SpdyStream): void;
}

export class SpdyStream extends Duplex {
  /** Bytes we may still send (peer's window for this stream). */
  sendWindow: number;
  /** The headers of the SYN_REPLY (streams we opened), once it came. */
  replyHeaders?: SpdyHeaders;
  /** RST_STREAM status, if the stream was reset (by either side). */
  resetStatus?: number;
  private replied: boolean;
  private localFin = false;
  private remoteFin = false;
  private unacked = 0;
  private blocked = false;
  private finished = false;

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    /** The SYN_STREAM's headers. */
    readonly headers: SpdyHeaders,
    /** Opened by the peer (needs our SYN_REPLY) rather than by us. */
    readonly remote: boolean,
    initialSendWindow: number,
  ) {
    super({ readableHighWaterMark: host.receiveWindow, allowHalfOpen: true });
    this.sendWindow = initialSendWindow;
    this.replied = !remote;
  }

  /** Sends SYN_REPLY for a stream the peer opened (done implicitly before the first write). */
  reply(headers: SpdyHeaders = {}): void {
    if (this.replied || this.resetStatus !== undefined) return;
    this.replied = true;
    this.host.sendReply(this, headers);
  }

  /** Sends RST_STREAM (CANCEL by default) and destroys the stream. */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.resetStatus === undefined && !this.finished) {
      this.resetStatus = status;
      this.host.sendReset(this, status);
    }
    this.destroy();
  }

  // ---- called by the session ----

  /** A DATA frame arrived. */
  onData(data: Buffer, fin: boolean): void {
    if (this.remoteFin || this.destroyed) return;
    if (data.length) {
      this.unacked += data.length;
      if (!this.push(data)) this.setBlocked(true);
      else this.ackIfDue(false);
    }
    if (fin) this.onRemoteFin();
  }

  /** The peer half-closed (FIN on DATA, SYN_* or HEADERS). */
  onRemoteFin(): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.push(null);
    this.maybeDone();
  }

  onReply(headers: SpdyHeaders, fin: boolean): void {
    this.replyHeaders ??= headers;
    this.emit('reply', headers);
    if (fin) this.onRemoteFin();
  }

  /** RST_STREAM from the peer, or the session ended under us. */
  onReset(status: number): void {
    this.resetStatus ??= status;
    this.emit('reset', status);
    this.finished = true;
    this.host.streamDone(this);
    this.destroy();
  }

  /** The SYN_STREAM carried FIN or UNIDIRECTIONAL. */
  markLocalFin(): void { this.localFin = true; }

  // ---- Duplex ----

  override _read(): void {
    this.setBlocked(false);
    this.ackIfDue(true);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sendAll(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.localFin) { cb(); return; }
    this.reply();
    this.localFin = true;
    this.host.sendData(this, Buffer.alloc(0), true).then(() => { this.maybeDone(); cb(); }, cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.setBlocked(false);
    if (!this.finished) {
      // Destroyed before both sides finished: tell the peer.
      if (this.resetStatus === undefined) {
        this.resetStatus = err ? RstStatus.INTERNAL_ERROR : RstStatus.CANCEL;
        this.host.sendReset(this, this.resetStatus);
      }
      this.finished = true;
      this.host.streamDone(this);
    }
    cb(err);
  }

  private async sendAll(chunk: Buffer): Promise<void> {
    if (this.localFin || this.resetStatus !== undefined) throw new Error('write on a closed spdy stream');
    this.reply();
    let off = 0;
    while (off < chunk.length) {
      const n = await this.host.sendAllowance(this, Math.min(chunk.length - off, MAX_DATA_FRAME));
      await this.host.sendData(this, chunk.subarray(off, off + n), false);
      off += n;
    }
  }

  private setBlocked(blocked: boolean): void {
    if (this.blocked === blocked) return;
    this.blocked = blocked;
    this.host.readerBlocked(this, blocked);
  }

  /** Acknowledges received bytes once half a window is outstanding (or always, when asked to). */
  private ackIfDue(reading: boolean): void {
    if (this.remoteFin || this.unacked === 0) return;
    if (this.unacked < this.host.receiveWindow / 2 && !(reading && this.readableLength === 0 && this.unacked >= this.host.receiveWindow / 4)) return;
    this.host.sendWindowUpdate(this.id, this.unacked);
    this.unacked = 0;
  }

  private maybeDone(): void {
    if (this.localFin && this.remoteFin && !this.finished) {
      this.finished = true;
      this.host.streamDone(this);
    }
  }
}
