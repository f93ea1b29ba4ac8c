/**
 * Runs a private dnsmasq on 127.0.0.1 for the tests (a loopback upstream to forward to) and the
 * benchmark (a peer serving the same names). It reads only the hosts file given: no config file,
 * no /etc/hosts, no /etc/resolv.conf, no upstream servers, so it never sends a query anywhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

export const DNSMASQ = '/usr/sbin/dnsmasq';

export interface RunningDnsmasq {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A port in 20000–29999 free for both UDP and TCP on 127.0.0.1 at the time of asking. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const ok = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => {
        const t = net.createServer();
        t.once('error', () => { u.close(); resolve(false); });
        t.listen(port, '127.0.0.1', () => t.close(() => u.close(() => resolve(true))));
      });
    });
    if (ok) return port;
  }
}

/** Starts dnsmasq answering from `hostsFile` (which must be readable by `nobody`). */
export async function startDnsmasq(opts: { hostsFile: string; extraArgs?: string[] }): Promise<RunningDnsmasq> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(DNSMASQ, [
      '--no-daemon', '--conf-file=/dev/null', '--pid-file=', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
      '--no-resolv', '--no-hosts', `--addn-hosts=${opts.hostsFile}`, '--edns-packet-max=1232', ...(opts.extraArgs ?? []),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      child.stderr!.on('data', (d) => {
        log += d;
        // "read <file> - N names" comes after the sockets are bound.
        if (/read .* names/.test(log)) { clearTimeout(timer); resolve(true); }
      });
      child.once('exit', () => { clearTimeout(timer); resolve(false); });
    });
    const stop = () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    if (started) return { port, child, stop };
    await stop();
    if (attempt >= 3) throw new Error(`dnsmasq did not start: ${log.trim()}`);
  }
}
