/**
 * The node's pod addresses, kept on disk in the layout of the CNI `host-local` IPAM plugin (which
 * Berth ran until 2026-12-07, so state written by either reads the same): `<dir>/<network>/<ip>`
 * holds "<pod uid>\r\n<ifname>", `last_reserved_ip.0` the last address handed out. Addresses go
 * round-robin after the last one (a freed address is not reused at once), skipping the network
 * address, the gateway and the broadcast address, as host-local does.
 *
 * One agent owns its data dir and its calls run on one event loop, so the taken addresses are read
 * from disk once and then kept in memory: an allocation picks an address without waiting and writes
 * its file with O_EXCL (reading every file for each pod made a burst of 100 quadratic: ~125 ms an
 * allocation by the 100th). host-local's `lock` file is left alone.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { intToIp, ipToInt, parseCidr } from '../../apis/cidr.ts';

const LAST = 'last_reserved_ip.0';
const IPV4_NAME = /^\d+\.\d+\.\d+\.\d+$/;

export interface Allocation {
  ip: string;
  /** `<ip>/<prefix>` */
  cidr: string;
  gateway: string;
}

interface State {
  /** address → owner */
  taken: Map<string, string>;
  last: number;
}

export class HostLocalIpam {
  readonly dir: string;
  private readonly first: number;
  private readonly last: number;
  private readonly gateway: number;
  private readonly prefix: number;
  private state?: Promise<State>;
  /** The last address handed out, not yet on disk; only the round-robin order depends on it. */
  private lastDirty?: string;
  private lastWriting = false;

  /** `dataDir/network` holds the files; `subnet` is the node's pod range, `gateway` its first address. */
  constructor(dataDir: string, network: string, subnet: string, gateway: string) {
    this.dir = path.join(dataDir, network);
    const s = parseCidr(subnet, true);
    const size = 2 ** (32 - s.prefix);
    const base = s.base;
    this.first = base + 1;
    this.last = base + size - 2;
    this.gateway = ipToInt(gateway);
    this.prefix = s.prefix;
  }

  /** address → owner (pod uid) of every allocation on disk. */
  async allocations(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return out;
    }
    await Promise.all(names.filter((n) => IPV4_NAME.test(n)).map(async (n) => {
      const owner = (await readFile(path.join(this.dir, n), 'utf8').catch(() => '')).split(/\r?\n/)[0]?.trim();
      if (owner) out.set(n, owner);
    }));
    return out;
  }

  /** The allocations as this instance keeps them (read from disk on first use). */
  private load(): Promise<State> {
    this.state ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const lastText = (await readFile(path.join(this.dir, LAST), 'utf8').catch(() => '')).trim();
      return { taken: await this.allocations(), last: IPV4_NAME.test(lastText) ? ipToInt(lastText) : this.last };
    })();
    this.state.catch(() => { this.state = undefined; });
    return this.state;
  }

  /** The owner's address if it has one, else the next free one (written to disk before it returns). */
  async allocate(owner: string, ifName: string): Promise<Allocation> {
    const st = await this.load();
    for (const [ip, o] of st.taken) if (o === owner) return this.result(ip);
    const count = this.last - this.first + 1;
    const from = st.last;
    for (let i = 1; i <= count; i++) {
      const cand = this.first + (((from - this.first + i) % count) + count) % count;
      if (cand === this.gateway) continue;
      const ip = intToIp(cand);
      if (st.taken.has(ip)) continue;
      // Taken before the first await: a concurrent allocation moves on to the next address.
      st.taken.set(ip, owner);
      st.last = cand;
      try {
        await writeFile(path.join(this.dir, ip), `${owner}\r\n${ifName}`, { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') { st.taken.delete(ip); throw err; }
        // Written behind this instance's back: whose it is is on disk.
        st.taken.set(ip, (await readFile(path.join(this.dir, ip), 'utf8').catch(() => '?')).split(/\r?\n/)[0] || '?');
        if (st.taken.get(ip) === owner) return this.result(ip);
        continue;
      }
      this.persistLast(ip);
      return this.result(ip);
    }
    throw new Error(`no IP addresses available in range ${intToIp(this.first - 1)}/${this.prefix}`);
  }

  /** Writes last_reserved_ip.0 behind the allocations (one write at a time, the newest value wins). */
  private persistLast(ip: string): void {
    this.lastDirty = ip;
    if (this.lastWriting) return;
    this.lastWriting = true;
    void (async () => {
      while (this.lastDirty) {
        const v = this.lastDirty;
        this.lastDirty = undefined;
        await writeFile(path.join(this.dir, LAST), v).catch(() => undefined);
      }
      this.lastWriting = false;
    })();
  }

  private result(ip: string): Allocation {
    return { ip, cidr: `${ip}/${this.prefix}`, gateway: intToIp(this.gateway) };
  }

  /** Removes every allocation of `owner` (those on disk too when this instance knows of none). */
  async release(owner: string): Promise<void> {
    const st = await this.load();
    let ips = [...st.taken].filter(([, o]) => o === owner).map(([ip]) => ip);
    if (!ips.length) ips = [...(await this.allocations())].filter(([, o]) => o === owner).map(([ip]) => ip);
    for (const ip of ips) {
      await rm(path.join(this.dir, ip), { force: true });
      st.taken.delete(ip);
    }
  }
}
