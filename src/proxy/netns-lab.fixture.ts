/**
 * Test/bench support: a throw-away network in namespaces of its own, never touching the real host.
 *
 *   [netns <prefix>-h]  "host": node0 10.60.200.1/32 (a veth whose peer node0p stays in the same
 *                       namespace: the "node NIC"), route <svc CIDR> dev node0, ip_forward=1
 *      ├─ vp1 ══ eth0 [netns <prefix>-p1] 10.60.1.1/32, default via 10.60.200.1
 *      └─ vp2 ══ eth0 [netns <prefix>-p2] 10.60.1.2/32 …      (routed veths, no bridge)
 *
 * Pods run tiny TCP servers answering "<name> <client address>" (and UDP ones answering "<name>"). `destroy()` deletes the namespaces
 * (and with them every interface) and kills the servers; it is safe to call more than once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { runCommand } from '../host/spawner.ts';

export const NODE_IP = '10.60.200.1';

async function sh(file: string, ...args: string[]): Promise<string> {
  const r = await runCommand(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface ClientResult { ok: boolean; body?: string; code?: string; ms: number }

const SERVER = `const [name, port] = [process.env.NAME, Number(process.env.PORT)];
require('net').createServer((s) => { s.on('error', () => {}); s.end(name + ' ' + s.remoteAddress + '\\n'); })
  .listen(port, '0.0.0.0', () => process.stdout.write('up\\n'));`;

// N sequential connects; each result: body or error code, and the time it took.
const CLIENT = `const net = require('net');
const { host, port, count, timeoutMs } = JSON.parse(process.env.REQ);
(async () => { const out = [];
  for (let i = 0; i < count; i++) out.push(await new Promise((resolve) => {
    const t0 = Date.now(); let body = '';
    const s = net.connect({ host, port }); s.setTimeout(timeoutMs);
    s.on('data', (d) => body += d);
    s.on('end', () => resolve({ ok: true, body: body.trim(), ms: Date.now() - t0 }));
    s.on('timeout', () => { s.destroy(); resolve({ ok: false, code: 'TIMEOUT', ms: Date.now() - t0 }); });
    s.on('error', (e) => resolve({ ok: false, code: e.code, ms: Date.now() - t0 }));
  }));
  process.stdout.write(JSON.stringify(out)); })();`;

// Reads {host, port, expect} lines; connects in a tight loop until an answer starts with `expect`,
// then writes the time taken (ms since the line arrived). For measuring "rules in effect" latency.
const PROBER = `const net = require('net');
const once = (host, port) => new Promise((resolve) => { let b = ''; const s = net.connect({ host, port });
  s.setTimeout(500); s.on('data', (d) => b += d); s.on('end', () => resolve(b));
  s.on('timeout', () => { s.destroy(); resolve(''); }); s.on('error', () => resolve('')); });
require('readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const { host, port, expect } = JSON.parse(line); const t0 = performance.now();
  for (;;) { if ((await once(host, port)).startsWith(expect) || performance.now() - t0 > 5000) break; }
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }) + '\\n'); });
process.stdout.write('up\\n');`;

const UDP_SERVER = `const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(process.env.NAME, r.port, r.address));
s.bind(Number(process.env.PORT), '0.0.0.0', () => process.stdout.write('up\\n'));`;

// N datagrams from one fixed source port (one conntrack entry), one at a time; the answers or TIMEOUT.
const UDP_CLIENT = `const { host, port, count, srcPort } = JSON.parse(process.env.REQ);
const s = require('dgram').createSocket('udp4');
s.bind(srcPort, async () => { const out = [];
  for (let i = 0; i < count; i++) out.push(await new Promise((resolve) => {
    const t = setTimeout(() => { s.off('message', on); resolve('TIMEOUT'); }, 500);
    const on = (m) => { clearTimeout(t); s.off('message', on); resolve(m.toString()); };
    s.on('message', on); s.send('q', port, host);
  }));
  process.stdout.write(JSON.stringify(out)); s.close(); });`;

/** A long-lived prober in a namespace; see PROBER. */
export interface Prober {
  /** Resolves when a connection to host:port answered by a server named `expect` succeeds. */
  waitFor(host: string, port: number, expect: string): Promise<number>;
}

export class NetnsLab {
  readonly host: string;
  private readonly namespaces: string[] = [];
  private readonly servers: ChildProcess[] = [];

  constructor(readonly prefix: string) {
    this.host = `${prefix}-h`;
  }

  pod(i: number): string { return `${this.prefix}-p${i}`; }
  podIP(i: number): string { return `10.60.1.${i}`; }

  /** Creates the host namespace and pods 1..pods (see the file comment). */
  async create(pods: number, serviceCidr: string): Promise<void> {
    const h = this.host;
    await this.addNs(h);
    // No dummy driver on every kernel: a veth pair kept inside the namespace does the same.
    await sh('ip', '-n', h, 'link', 'add', 'node0', 'type', 'veth', 'peer', 'name', 'node0p');
    await sh('ip', '-n', h, 'addr', 'add', `${NODE_IP}/32`, 'dev', 'node0');
    await sh('ip', '-n', h, 'link', 'set', 'node0p', 'up');
    await sh('ip', '-n', h, 'link', 'set', 'node0', 'up');
    await sh('ip', '-n', h, 'route', 'add', serviceCidr, 'dev', 'node0');
    await sh('ip', 'netns', 'exec', h, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    for (let i = 1; i <= pods; i++) await this.addPod(i);
  }

  async addPod(i: number): Promise<void> {
    const p = this.pod(i);
    await this.addNs(p);
    await sh('ip', '-n', this.host, 'link', 'add', `vp${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p);
    await sh('ip', '-n', this.host, 'link', 'set', `vp${i}`, 'up');
    await sh('ip', '-n', this.host, 'route', 'add', `${this.podIP(i)}/32`, 'dev', `vp${i}`);
    await sh('ip', '-n', p, 'addr', 'add', `${this.podIP(i)}/32`, 'dev', 'eth0');
    await sh('ip', '-n', p, 'link', 'set', 'eth0', 'up');
    await sh('ip', '-n', p, 'route', 'add', `${NODE_IP}/32`, 'dev', 'eth0');
    await sh('ip', '-n', p, 'route', 'add', 'default', 'via', NODE_IP, 'dev', 'eth0');
  }

  private async addNs(name: string): Promise<void> {
    await sh('ip', 'netns', 'add', name);
    this.namespaces.push(name);
    await sh('ip', '-n', name, 'link', 'set', 'lo', 'up');
  }

  /** Starts a server in a namespace answering `<name> <client address>`; resolves when listening. */
  async serve(ns: string, name: string, port: number): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER], {
      env: { ...process.env, NAME: name, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`server ${name} exited ${code}`)));
    });
  }

  /** Starts a UDP server in a namespace answering each datagram with `name`; resolves when bound. */
  async serveUdp(ns: string, name: string, port: number): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', UDP_SERVER], {
      env: { ...process.env, NAME: name, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`udp server ${name} exited ${code}`)));
    });
  }

  /** `count` datagrams from namespace `ns`, all from source port `srcPort`, to host:port: the answers (or TIMEOUT). */
  async udpExchange(ns: string, host: string, port: number, count: number, srcPort: number): Promise<string[]> {
    const r = await runCommand('ip', ['netns', 'exec', ns, process.execPath, '-e', UDP_CLIENT], {
      env: { ...process.env, REQ: JSON.stringify({ host, port, count, srcPort }) },
    });
    if (r.code !== 0) throw new Error(`udp client in ${ns} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as string[];
  }

  async prober(ns: string): Promise<Prober> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', PROBER], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.servers.push(child);
    const lines: ((l: string) => void)[] = [];
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { const l = buf.slice(0, i); buf = buf.slice(i + 1); lines.shift()?.(l); }
    });
    const next = () => new Promise<string>((resolve) => lines.push(resolve));
    await next(); // "up"
    return {
      async waitFor(host, port, expect) {
        const answer = next();
        child.stdin!.write(JSON.stringify({ host, port, expect }) + '\n');
        return (JSON.parse(await answer) as { ms: number }).ms;
      },
    };
  }

  /** `count` sequential connections from namespace `ns` to host:port. */
  async connect(ns: string, host: string, port: number, count = 1, timeoutMs = 3000): Promise<ClientResult[]> {
    const r = await runCommand('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT], {
      env: { ...process.env, REQ: JSON.stringify({ host, port, count, timeoutMs }) },
    });
    if (r.code !== 0) throw new Error(`client in ${ns} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ClientResult[];
  }

  /** For `process.on('exit')` after a signal, when async teardown cannot run. */
  destroySync(): void {
    for (const s of this.servers.splice(0)) if (s.exitCode === null) s.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  }

  async destroy(): Promise<void> {
    for (const s of this.servers.splice(0)) if (s.exitCode === null) s.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0).reverse()) await runCommand('ip', ['netns', 'del', ns]);
  }
}

/** Deletes namespaces left by a crashed earlier run with this prefix. */
export async function removeStaleNamespaces(prefix: string): Promise<void> {
  const out = await sh('ip', 'netns', 'list');
  for (const line of out.split('\n')) {
    const name = line.split(' ')[0];
    if (name && name.startsWith(prefix)) await runCommand('ip', ['netns', 'del', name]);
  }
}
