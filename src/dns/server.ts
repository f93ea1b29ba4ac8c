/**
 * The cluster DNS server: UDP and TCP listeners on one address and port, answering from a DnsIndex
 * kept current by informers, forwarding the rest upstream.
 *
 *   Services / EndpointSlices / Pods informers ─events─▶ DnsIndex ◀─reads─ resolver
 *   client ─UDP/TCP─▶ server.ts ─bytes─▶ message.ts ─┬─▶ resolver (cluster domain, PTR)
 *                                                     └─▶ forwarder ─UDP/TCP─▶ upstreams
 *
 * TCP: 2-byte length-prefixed messages, several per connection, answered as each completes
 * (RFC 7766 allows out-of-order replies); idle connections close after 10 s.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../util/log.ts';
import { Forwarder } from './forwarder.ts';
import { AnswerCache } from './answer-cache.ts';
import { feedIndex, type DnsInformers } from './informer-feed.ts';
import { handleMessage, type MessageDeps } from './message.ts';
import { normalizeName } from './names.ts';
import { DnsIndex, type RecordSource } from './record-index.ts';
import { hostNameservers, parseUpstream } from './upstreams.ts';

export interface DnsServerOptions {
  /** Feed a fresh index from these informers (the caller starts them). */
  informers?: DnsInformers;
  /** Or answer from this record source (an index fed elsewhere; tests, benchmarks). */
  source?: RecordSource;
  listen: { host: string; port: number };
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** `ip[:port]` list; default the nameservers of /etc/resolv.conf. Empty: out-of-zone names get REFUSED. */
  upstreams?: string[];
  /** Answer TTL in seconds; default 5 (CoreDNS kubernetes `ttl 5`). */
  ttl?: number;
  /** Negative-caching TTL (SOA MINIMUM), seconds; default 5. */
  negativeTtl?: number;
  /** Per-try upstream timeout; default 2000 ms. */
  upstreamTimeoutMs?: number;
  logger?: Logger;
}

export interface RunningDnsServer {
  port: number;
  address: string;
  /** The index the server answers from (when built from informers); for stats and tests. */
  index?: DnsIndex;
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;

export async function startDnsServer(opts: DnsServerOptions): Promise<RunningDnsServer> {
  let index: DnsIndex | undefined;
  let unfeed = () => {};
  let source = opts.source;
  if (!source) {
    if (!opts.informers) throw new Error('startDnsServer: give informers or a record source');
    index = new DnsIndex();
    unfeed = feedIndex(index, opts.informers);
    source = index;
  }
  const upstreams = (opts.upstreams ?? hostNameservers()).map(parseUpstream);
  const forwarder = upstreams.length ? new Forwarder(upstreams, { timeoutMs: opts.upstreamTimeoutMs, logger: opts.logger }) : undefined;
  const deps: MessageDeps = {
    source, forwarder, logger: opts.logger, cache: new AnswerCache(),
    config: { zone: normalizeName(opts.clusterDomain ?? 'cluster.local'), ttl: opts.ttl ?? 5, negativeTtl: opts.negativeTtl ?? 5 },
  };
  const { udp, tcp, port } = await bindBoth(opts.listen.host, opts.listen.port);
  const conns = new Set<net.Socket>();

  udp.on('message', (msg, rinfo) => {
    handleMessage(msg, 'udp', deps).then((reply) => {
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    }, (err) => opts.logger?.error('dns query failed', { error: (err as Error).message }));
  });
  udp.on('error', (err) => opts.logger?.warn('dns udp socket error', { error: err.message }));
  tcp.on('connection', (sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    serveTcp(sock, deps, opts.logger);
  });
  opts.logger?.info('dns server listening', { address: opts.listen.host, port, zone: deps.config.zone, upstreams: upstreams.map((u) => `${u.host}:${u.port}`) });

  let closing: Promise<void> | undefined;
  return {
    port, address: opts.listen.host, index,
    close() {
      closing ??= (async () => {
        unfeed();
        forwarder?.close();
        for (const c of conns) c.destroy();
        await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
      })();
      return closing;
    },
  };
}

/** UDP and TCP on the same port; with port 0, the port UDP got (retried if TCP finds it taken). */
async function bindBoth(host: string, port: number): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  const family = net.isIPv6(host) ? 'udp6' : 'udp4';
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket({ type: family });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => { udp.off('error', reject); resolve(); });
    });
    const bound = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(bound, host, () => { tcp.off('error', reject); resolve(); });
      });
      return { udp, tcp, port: bound };
    } catch (err) {
      udp.close();
      if (port !== 0 || attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

function serveTcp(sock: net.Socket, deps: MessageDeps, logger?: Logger): void {
  let buf = Buffer.alloc(0);
  sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
  sock.on('error', () => sock.destroy());
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < len + 2) break;
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      handleMessage(msg, 'tcp', deps).then((reply) => {
        if (!reply || sock.destroyed) return;
        const head = Buffer.alloc(2);
        head.writeUInt16BE(reply.length);
        sock.write(Buffer.concat([head, reply]));
      }, (err) => logger?.error('dns query failed', { error: (err as Error).message }));
    }
  });
}
