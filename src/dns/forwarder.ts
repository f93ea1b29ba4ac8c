/**
 * Relays queries outside the cluster domain to upstream servers, like CoreDNS's `forward` plugin:
 * over UDP with a per-try timeout, moving to the next upstream on timeout or error; over TCP when
 * the UDP reply is truncated (TC) or the client itself asked over TCP. The upstream's reply bytes are
 * returned as they came, with the client's id put back.
 *
 * One UDP socket per address family carries every outstanding query; replies are matched by a fresh
 * random id and the upstream's address, so a stray or spoofed datagram cannot answer a query.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { Logger } from '../util/log.ts';
import type { Upstream } from './upstreams.ts';

export interface ForwarderOptions {
  /** Per-try wait for one upstream; default 2000 ms (CoreDNS: 2 s dial/read per try). */
  timeoutMs?: number;
  logger?: Logger;
}

interface Pending {
  upstream: Upstream;
  resolve(buf: Buffer | undefined): void;
}

const TC = 1 << 9;

export class Forwarder {
  private readonly timeoutMs: number;
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly pending = new Map<number, Pending>();
  /** The upstream that answered last: tried first next time (resolv.conf order otherwise). */
  private preferred = 0;
  private closed = false;

  constructor(private readonly upstreams: Upstream[], private readonly opts: ForwarderOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /** The reply for `query` (client id restored), or undefined when no upstream answered. */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const n = this.upstreams.length;
    for (let i = 0; i < n && !this.closed; i++) {
      const idx = (this.preferred + i) % n;
      const up = this.upstreams[idx];
      try {
        let reply = transport === 'udp' ? await this.udp(up, query) : await this.tcp(up, query);
        if (reply && transport === 'udp' && (reply.readUInt16BE(2) & TC)) reply = await this.tcp(up, query);
        if (reply) {
          this.preferred = idx;
          reply.writeUInt16BE(query.readUInt16BE(0), 0);
          return reply;
        }
      } catch (err) {
        this.opts.logger?.debug('dns upstream failed', { upstream: `${up.host}:${up.port}`, error: (err as Error).message });
      }
    }
    return undefined;
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.resolve(undefined);
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    s.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      const p = this.pending.get(msg.readUInt16BE(0));
      if (!p || p.upstream.host !== rinfo.address || p.upstream.port !== rinfo.port) return;
      this.pending.delete(msg.readUInt16BE(0));
      p.resolve(msg);
    });
    s.on('error', (err) => this.opts.logger?.warn('dns forwarder socket error', { error: err.message }));
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  private freeId(): number {
    for (;;) {
      const id = randomInt(0, 65536);
      if (!this.pending.has(id)) return id;
    }
  }

  private udp(up: Upstream, query: Buffer): Promise<Buffer | undefined> {
    const id = this.freeId();
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      this.pending.set(id, { upstream: up, resolve: (b) => { clearTimeout(timer); resolve(b); } });
      this.socket(up.family).send(out, up.port, up.host, (err) => {
        if (!err) return;
        this.pending.get(id)?.resolve(undefined);
        this.pending.delete(id);
      });
    });
  }

  /** One query on its own connection (2-byte length prefix, RFC 1035 §4.2.2). */
  private tcp(up: Upstream, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = net.connect({ host: up.host, port: up.port });
      const chunks: Buffer[] = [];
      let got = 0;
      const done = (b: Buffer | undefined) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(b);
      };
      const timer = setTimeout(() => done(undefined), this.timeoutMs);
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (d) => {
        chunks.push(d);
        got += d.length;
        if (got < 2) return;
        const all = Buffer.concat(chunks);
        const need = all.readUInt16BE(0);
        if (all.length >= need + 2) done(all.subarray(2, 2 + need));
      });
      sock.on('error', () => done(undefined));
      sock.on('close', () => done(undefined));
    });
  }
}
