/**
 * CNI plugin invocation as the CNI spec (1.0) describes it: exec the plugin binary found in
 * CNI_PATH with CNI_COMMAND / CNI_CONTAINERID / CNI_NETNS / CNI_IFNAME / CNI_PATH in its
 * environment and the network config on stdin; read the result (or an error object) from stdout.
 *
 * `runConflist` executes a whole network configuration list: ADD runs the plugins in order, each
 * receiving the previous plugin's result as `prevResult`; DEL runs them in reverse order and CHECK
 * in order, both with the cached ADD result as `prevResult`. The caller caches ADD results
 * ({@link ResultCache}) because the spec requires CHECK/DEL to see them.
 */
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../../host/spawner.ts';

/** Default directory of the Debian `containernetworking-plugins` binaries. */
export const DEFAULT_CNI_BIN_DIR = '/usr/lib/cni';

/** CNI verbs Berth uses. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/** One plugin's configuration inside a conflist (`type` names the binary). */
export interface CniPluginConf {
  type: string;
  [key: string]: unknown;
}

/** A network configuration list (`*.conflist`). */
export interface CniConflist {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
  disableCheck?: boolean;
}

/** The parts of a CNI 1.0 result Berth reads. */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Per-invocation runtime parameters (the CNI_* environment). */
export interface CniRuntime {
  containerId: string;
  /** Path of the network namespace; may be empty for DEL when the namespace is already gone. */
  netns: string;
  ifName: string;
  /** Directories searched for plugin binaries (joined into CNI_PATH). */
  binDirs: string[];
  /** Optional CNI_ARGS pairs (`K8S_POD_NAME=…;…`). */
  args?: Record<string, string>;
  timeoutMs?: number;
}

/** Error returned by a plugin: carries the plugin's code, msg and details. */
export class CniError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly code: number,
    readonly msg: string,
    readonly details?: string,
  ) {
    super(`CNI plugin ${plugin} ${command} failed (code ${code}): ${msg}${details ? `: ${details}` : ''}`);
    this.name = 'CniError';
  }
}

function findPlugin(type: string, binDirs: string[]): string {
  if (!/^[A-Za-z0-9._-]+$/.test(type)) throw new Error(`invalid CNI plugin type "${type}"`);
  for (const dir of binDirs) {
    const p = path.join(dir, type);
    if (existsSync(p)) return p;
  }
  throw new Error(`CNI plugin "${type}" not found in ${binDirs.join(':')}`);
}

/**
 * Executes one plugin with `config` on stdin. Returns the parsed result for ADD (and any JSON a
 * plugin prints for other verbs), undefined when the plugin prints nothing; throws {@link CniError}
 * with the plugin's message when it exits non-zero.
 */
export async function execPlugin(command: CniCommand, config: CniPluginConf & { name: string; cniVersion: string }, rt: CniRuntime): Promise<CniResult | undefined> {
  const bin = findPlugin(config.type, rt.binDirs);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifName,
    CNI_PATH: rt.binDirs.join(':'),
    // The plugins are short-lived Go programs: one scheduler thread and no collector spare them
    // thread start-ups and GC work (~10% of their CPU; process start-up dominates on small hosts).
    GOMAXPROCS: '1',
    GOGC: 'off',
  };
  if (rt.args && Object.keys(rt.args).length) {
    env.CNI_ARGS = Object.entries(rt.args).map(([k, v]) => `${k}=${v}`).join(';');
  }
  const r = await runCommand(bin, [], { env, input: JSON.stringify(config), timeoutMs: rt.timeoutMs ?? 60_000 });
  const out = r.stdout.trim();
  if (r.code !== 0) {
    let parsed: { code?: number; msg?: string; details?: string } | undefined;
    try {
      parsed = out ? JSON.parse(out) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed.msg === 'string') {
      throw new CniError(config.type, command, parsed.code ?? r.code, parsed.msg, parsed.details);
    }
    throw new CniError(config.type, command, r.code, (r.stderr.trim() || out || 'no output').slice(0, 2000));
  }
  if (!out) return undefined;
  try {
    return JSON.parse(out) as CniResult;
  } catch {
    throw new Error(`CNI plugin ${config.type} ${command} printed invalid JSON: ${out.slice(0, 500)}`);
  }
}

/** Builds the stdin config of plugin `i`, as the spec prescribes (name, cniVersion, prevResult). */
function pluginConfig(list: CniConflist, plugin: CniPluginConf, prevResult?: CniResult): CniPluginConf & { name: string; cniVersion: string } {
  const conf: CniPluginConf & { name: string; cniVersion: string } = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

/**
 * Runs a conflist. ADD returns the final result (the last plugin's). DEL and CHECK take the cached
 * ADD result (`cached`) as every plugin's prevResult. DEL calls every plugin even when one fails
 * (so IPAM is still released) and then throws the collected errors; per spec, plugins treat
 * already-missing resources as success.
 */
export async function runConflist(command: CniCommand, list: CniConflist, rt: CniRuntime, cached?: CniResult): Promise<CniResult | undefined> {
  if (command === 'ADD') {
    let prev: CniResult | undefined;
    for (const p of list.plugins) {
      const res = await execPlugin('ADD', pluginConfig(list, p, prev), rt);
      if (!res) throw new Error(`CNI plugin ${p.type} ADD returned no result`);
      prev = res;
    }
    return prev;
  }
  if (command === 'CHECK') {
    if (list.disableCheck) return undefined;
    if (!cached) throw new Error('CNI CHECK needs the cached ADD result');
    for (const p of list.plugins) await execPlugin('CHECK', pluginConfig(list, p, cached), rt);
    return undefined;
  }
  const errors: Error[] = [];
  for (const p of [...list.plugins].reverse()) {
    try {
      await execPlugin('DEL', pluginConfig(list, p, cached), rt);
    } catch (err) {
      errors.push(err as Error); // keep going: later plugins (e.g. IPAM) must still release
    }
  }
  if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
  return undefined;
}

/**
 * Stores ADD results on disk (`<dir>/<network>-<containerId>-<ifName>.json`), as libcni does, so
 * CHECK and DEL can pass them as prevResult, also after an agent restart.
 */
export class ResultCache {
  constructor(readonly dir: string) {}

  private file(network: string, containerId: string, ifName: string): string {
    return path.join(this.dir, `${network}-${containerId}-${ifName}.json`);
  }

  /** Persists a result atomically. */
  async save(network: string, containerId: string, ifName: string, result: CniResult): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const f = this.file(network, containerId, ifName);
    await writeFile(f + '.tmp', JSON.stringify(result));
    await rename(f + '.tmp', f);
  }

  /** The cached result, or undefined when none (or unreadable). */
  async load(network: string, containerId: string, ifName: string): Promise<CniResult | undefined> {
    try {
      return JSON.parse(await readFile(this.file(network, containerId, ifName), 'utf8')) as CniResult;
    } catch {
      return undefined;
    }
  }

  /** Removes a cached result (no error when absent). */
  async remove(network: string, containerId: string, ifName: string): Promise<void> {
    await rm(this.file(network, containerId, ifName), { force: true });
  }
}

/** First IPv4 address of a result: `{ ip, prefix, gateway }`, or undefined when it has none. */
export function primaryIPv4(result: CniResult | undefined): { ip: string; cidr: string; gateway?: string } | undefined {
  const entry = result?.ips?.find((e) => /^\d+\.\d+\.\d+\.\d+\//.test(e.address));
  if (!entry) return undefined;
  return { ip: entry.address.split('/')[0]!, cidr: entry.address, gateway: entry.gateway };
}
