/**
 * A SPDY/3.1 session over a byte transport (a socket after a `101 Upgrade: SPDY/3.1`, or a
 * websocket tunnel as a Duplex): stream multiplexing, PING, GOAWAY, SETTINGS and flow control.
 *
 *   const s = new SpdySession(socket, { role: 'server' });
 *   s.on('stream', (st) => { st.reply(); st.pipe(st); });       // peer-opened streams
 *   const st = s.openStream({ streamtype: 'data' });             // our own (odd ids for a client)
 *
 * Flow control (SPDY/3.1): every stream and the session start with a 64 KiB send window, grown by
 * the peer's WINDOW_UPDATEs (stream id 0 = the session) and moved by SETTINGS_INITIAL_WINDOW_SIZE.
 * `enforceSendWindow: false` sends without waiting for windows, limited only by the transport's
 * backpressure: that is how Go's spdystream (kubectl, kubelet) behaves, and it never sends
 * WINDOW_UPDATE, so honouring its windows would stall after 64 KiB. We always advertise and
 * acknowledge our receive windows, which spdystream ignores harmlessly.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { FrameParser, FrameWriter, GoAwayStatus, RstStatus, SETTINGS_INITIAL_WINDOW_SIZE, SpdyProtocolError, type Frame } from './frames.ts';
import type { SpdyHeaders } from './header-codec.ts';
import { SpdyStream, type StreamHost } from './stream.ts';

export const DEFAULT_WINDOW = 64 * 1024;

export interface SpdySessionOptions {
  /** Clients open odd stream ids and pings, servers even ones. */
  role: 'client' | 'server';
  /** Wait for the peer's windows before sending DATA (default true); see the file comment. */
  enforceSendWindow?: boolean;
}

export declare interface SpdySession {
  on(event: 'stream', fn: (stream: SpdyStream) => void): this;
  on(event: 'close', fn: (err?: Error) => void): this;
  on(event: 'goaway', fn: (status: number) => void): this;
  on(event: string, fn: (...args: any[]) => void): this;
}

export class SpdySession extends EventEmitter implements StreamHost {
  readonly receiveWindow = DEFAULT_WINDOW;
  private readonly writer = new FrameWriter();
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly enforce: boolean;
  private readonly isClient: boolean;
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  private initialSendWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private sessionUnacked = 0;
  private windowWaiters = new Set<() => void>();
  private readonly pings = new Map<number, (err?: Error) => void>();
  private readonly blockedReaders = new Set<SpdyStream>();
  /** Writers waiting for the transport to drain (one listener for all of them). */
  private drainWaiters: ((err?: Error) => void)[] = [];
  private goingAway = false;
  private closed = false;

  constructor(private readonly transport: Duplex, opts: SpdySessionOptions) {
    super();
    this.isClient = opts.role === 'client';
    this.enforce = opts.enforceSendWindow ?? true;
    this.nextStreamId = this.isClient ? 1 : 2;
    this.nextPingId = this.isClient ? 1 : 2;
    transport.on('data', (chunk: Buffer) => this.onBytes(chunk));
    transport.on('drain', () => this.settleDrain());
    transport.on('end', () => this.shutdown());
    transport.on('close', () => this.shutdown());
    transport.on('error', (err: Error) => this.shutdown(err));
  }

  /** Streams not yet finished. */
  get activeStreams(): number { return this.streams.size; }

  /** Opens a stream (SYN_STREAM); with `fin` we send nothing on it (the peer may still). */
  openStream(headers: SpdyHeaders, opts: { fin?: boolean; priority?: number } = {}): SpdyStream {
    if (this.closed || this.goingAway) throw new Error('spdy: session is closing');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers, false, this.initialSendWindow);
    this.streams.set(id, stream);
    this.write({ type: 'SYN_STREAM', streamId: id, associatedTo: 0, priority: opts.priority ?? 0, fin: !!opts.fin, unidirectional: false, headers });
    if (opts.fin) { stream.markLocalFin(); stream.end(); }
    return stream;
  }

  /** Sends a PING; resolves with the round trip in ms, rejects if the session ends first. */
  ping(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('spdy: session closed'));
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 2) % 0x100000000 || (this.isClient ? 1 : 2);
    const start = Date.now();
    return new Promise((resolve, reject) => {
      this.pings.set(id, (err) => (err ? reject(err) : resolve(Date.now() - start)));
      this.write({ type: 'PING', id });
    });
  }

  /** GOAWAY, then ends the transport once every stream is finished. */
  close(): void {
    if (this.closed) return;
    if (!this.goingAway) {
      this.goingAway = true;
      this.write({ type: 'GOAWAY', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.OK });
    }
    if (this.streams.size === 0) this.transport.end();
  }

  /** Drops the transport and every stream at once. */
  destroy(err?: Error): void {
    this.transport.destroy();
    this.shutdown(err);
  }

  // ---- StreamHost ----

  sendData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spdy: session closed'));
    if (this.transport.write(this.writer.encode({ type: 'DATA', streamId: stream.id, fin, data }))) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push((err) => (err ? reject(err) : resolve())));
  }

  sendReply(stream: SpdyStream, headers: SpdyHeaders): void {
    this.write({ type: 'SYN_REPLY', streamId: stream.id, fin: false, headers });
  }

  sendReset(stream: SpdyStream, status: number): void {
    this.write({ type: 'RST_STREAM', streamId: stream.id, status });
  }

  sendWindowUpdate(streamId: number, delta: number): void {
    this.write({ type: 'WINDOW_UPDATE', streamId, delta });
  }

  async sendAllowance(stream: SpdyStream, wanted: number): Promise<number> {
    if (!this.enforce) return wanted;
    for (;;) {
      if (this.closed || stream.destroyed || stream.resetStatus !== undefined) throw new Error('spdy: stream closed while waiting for its window');
      const n = Math.min(wanted, stream.sendWindow, this.sessionSendWindow);
      if (n > 0) {
        stream.sendWindow -= n;
        this.sessionSendWindow -= n;
        return n;
      }
      await new Promise<void>((resolve) => {
        const wake = () => { this.windowWaiters.delete(wake); stream.off('close', wake); resolve(); };
        this.windowWaiters.add(wake);
        stream.once('close', wake);
      });
    }
  }

  readerBlocked(stream: SpdyStream, blocked: boolean): void {
    if (blocked) this.blockedReaders.add(stream); else this.blockedReaders.delete(stream);
    if (this.blockedReaders.size) this.transport.pause(); else if (!this.closed) this.transport.resume();
  }

  streamDone(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.readerBlocked(stream, false);
    if (this.goingAway && this.streams.size === 0 && !this.closed) this.transport.end();
  }

  // ---- incoming ----

  private write(frame: Frame): void {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) return;
    this.transport.write(this.writer.encode(frame));
  }

  private onBytes(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      // The header compression context or framing is lost: the session cannot go on.
      this.write({ type: 'GOAWAY', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.PROTOCOL_ERROR });
      this.destroy(err as Error);
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case 'DATA': {
        this.sessionUnacked += f.data.length;
        if (this.sessionUnacked >= this.receiveWindow / 2) { this.sendWindowUpdate(0, this.sessionUnacked); this.sessionUnacked = 0; }
        // Frames for streams we no longer know (already reset) are dropped.
        this.streams.get(f.streamId)?.onData(f.data, f.fin);
        return;
      }
      case 'SYN_STREAM': return this.onSynStream(f);
      case 'SYN_REPLY': this.streams.get(f.streamId)?.onReply(f.headers, f.fin); return;
      case 'HEADERS': if (f.fin) this.streams.get(f.streamId)?.onRemoteFin(); return;
      case 'RST_STREAM': this.streams.get(f.streamId)?.onReset(f.status); return;
      case 'SETTINGS':
        for (const s of f.settings) {
          if (s.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = s.value - this.initialSendWindow;
          this.initialSendWindow = s.value;
          for (const st of this.streams.values()) st.sendWindow += delta;
          this.wakeWindowWaiters();
        }
        return;
      case 'PING':
        // Odd ids are the client's: echo the peer's pings, settle our own.
        if ((f.id % 2 === 1) !== this.isClient) this.write({ type: 'PING', id: f.id });
        else { this.pings.get(f.id)?.(); this.pings.delete(f.id); }
        return;
      case 'GOAWAY':
        this.goingAway = true;
        this.emit('goaway', f.status);
        if (this.streams.size === 0) this.transport.end();
        return;
      case 'WINDOW_UPDATE':
        if (f.streamId === 0) this.sessionSendWindow += f.delta;
        else { const st = this.streams.get(f.streamId); if (st) st.sendWindow += f.delta; }
        this.wakeWindowWaiters();
        return;
    }
  }

  private onSynStream(f: Extract<Frame, { type: 'SYN_STREAM' }>): void {
    const peerParity = this.isClient ? 0 : 1;
    if (f.streamId % 2 !== peerParity || f.streamId <= this.lastPeerStreamId) {
      this.write({ type: 'RST_STREAM', streamId: f.streamId, status: this.streams.has(f.streamId) ? RstStatus.STREAM_IN_USE : RstStatus.PROTOCOL_ERROR });
      return;
    }
    this.lastPeerStreamId = f.streamId;
    if (this.goingAway) { this.write({ type: 'RST_STREAM', streamId: f.streamId, status: RstStatus.REFUSED_STREAM }); return; }
    const stream = new SpdyStream(this, f.streamId, f.headers, true, this.initialSendWindow);
    this.streams.set(f.streamId, stream);
    if (f.unidirectional) { stream.markLocalFin(); stream.end(); }
    if (f.fin) stream.onRemoteFin();
    if (!this.listenerCount('stream')) { stream.reset(RstStatus.REFUSED_STREAM); return; }
    this.emit('stream', stream);
  }

  private settleDrain(err?: Error): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w(err);
  }

  private wakeWindowWaiters(): void {
    for (const wake of [...this.windowWaiters]) wake();
  }

  private shutdown(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const st of [...this.streams.values()]) st.onReset(RstStatus.CANCEL);
    this.streams.clear();
    this.wakeWindowWaiters();
    this.settleDrain(err ?? new Error('spdy: session closed'));
    for (const settle of this.pings.values()) settle(new Error('spdy: session closed'));
    this.pings.clear();
    if (!this.transport.destroyed) this.transport.destroy();
    this.emit('close', err);
  }
}

export { SpdyStream, SpdyProtocolError };
