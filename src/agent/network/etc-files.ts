/**
 * A pod's /etc/hosts and /etc/resolv.conf, rendered as the kubelet does and written to
 * `DATA_DIR/pods/<uid>/etc-hosts` and `…/resolv.conf` for the runtime to bind-mount. The render
 * functions are pure; {@link writePodEtcFiles} is the only one that touches the disk.
 * Host-network pods use the host's /etc/hosts (not rendered here); their resolv.conf follows
 * dnsPolicy (ClusterFirst behaves as Default for them, ClusterFirstWithHostNet does not).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The pod fields these files depend on (a subset of core/v1 Pod). */
export interface EtcFilesPod {
  metadata: { name: string; namespace: string; uid: string };
  spec: {
    hostname?: string;
    subdomain?: string;
    hostNetwork?: boolean;
    hostAliases?: { ip: string; hostnames?: string[] }[];
    dnsPolicy?: 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None' | string;
    dnsConfig?: {
      nameservers?: string[];
      searches?: string[];
      options?: { name: string; value?: string }[];
    };
  };
}

/** A parsed resolv.conf (the parts pods use). */
export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  /** `name` or `name:value`, in order. */
  options: string[];
}

/** Node-level DNS settings (kubelet's --cluster-dns / --cluster-domain). */
export interface DnsSettings {
  clusterDNS: string[];
  clusterDomain?: string;
  /** Contents of the host's resolv.conf (used by dnsPolicy Default and appended search paths). */
  hostResolvConf: string;
}

/** Kubelet limits. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/** The pod's hostname: spec.hostname, else metadata.name (truncated to 63 characters). */
export function podHostname(pod: EtcFilesPod): string {
  return (pod.spec.hostname || pod.metadata.name).slice(0, 63).replace(/[-.]+$/, '');
}

/** Renders the pod's /etc/hosts for pod IP `podIp` (without the pod's own line while it is unknown). */
export function renderHostsFile(pod: EtcFilesPod, podIp: string | undefined, clusterDomain = 'cluster.local'): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const host = podHostname(pod);
  if (podIp === undefined) {
    /* the pod IP is not known yet (see rewriteHostsFile) */
  } else if (pod.spec.subdomain) {
    lines.push(`${podIp}\t${host}.${pod.spec.subdomain}.${pod.metadata.namespace}.svc.${clusterDomain}\t${host}`);
  } else {
    lines.push(`${podIp}\t${host}`);
  }
  const aliases = (pod.spec.hostAliases ?? []).filter((a) => a.ip && a.hostnames?.length);
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames!.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

/** Parses resolv.conf text (comments and unknown keywords ignored; the last `search` wins). */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest.filter((s) => s && s !== '.');
    else if (key === 'options') out.options.push(...rest.filter(Boolean));
  }
  return out;
}

function uniq(list: string[]): string[] {
  return [...new Set(list)];
}

/** Merges options by name: later entries override earlier ones with the same name. */
function mergeOptions(base: string[], extra: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0]!, o);
  for (const o of extra) if (o.name) byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/**
 * Computes the pod's resolver configuration from dnsPolicy (default ClusterFirst) and dnsConfig:
 * ClusterFirst → cluster DNS, `<ns>.svc.<domain> svc.<domain> <domain>` + host search paths,
 * `ndots:5` (falls back to Default when no cluster DNS is configured or the pod uses the host
 * network); Default → the host's resolv.conf; None → only dnsConfig. dnsConfig is merged last.
 */
export function podResolvConf(pod: EtcFilesPod, dns: DnsSettings): ResolvConf {
  const domain = dns.clusterDomain ?? 'cluster.local';
  const host = parseResolvConf(dns.hostResolvConf);
  let policy = pod.spec.dnsPolicy || 'ClusterFirst';
  if (policy === 'ClusterFirst' && pod.spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && dns.clusterDNS.length === 0) policy = 'Default';
  let conf: ResolvConf;
  if (policy === 'ClusterFirst') {
    const ns = pod.metadata.namespace;
    conf = {
      nameservers: [...dns.clusterDNS],
      searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches],
      options: ['ndots:5'],
    };
  } else if (policy === 'None') {
    conf = { nameservers: [], searches: [], options: [] };
  } else {
    conf = host;
  }
  const extra = pod.spec.dnsConfig;
  return {
    nameservers: uniq([...conf.nameservers, ...(extra?.nameservers ?? [])]).slice(0, MAX_NAMESERVERS),
    searches: uniq([...conf.searches, ...(extra?.searches ?? [])]).slice(0, MAX_SEARCHES),
    options: mergeOptions(conf.options, extra?.options ?? []),
  };
}

/** Formats a ResolvConf as file text. */
export function formatResolvConf(conf: ResolvConf): string {
  const lines = conf.nameservers.map((n) => `nameserver ${n}`);
  if (conf.searches.length) lines.push(`search ${conf.searches.join(' ')}`);
  if (conf.options.length) lines.push(`options ${conf.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** Renders the pod's resolv.conf text. */
export function renderResolvConf(pod: EtcFilesPod, dns: DnsSettings): string {
  return formatResolvConf(podResolvConf(pod, dns));
}

/** Options of {@link writePodEtcFiles}. */
export interface WriteEtcFilesOptions {
  clusterDNS: string[];
  clusterDomain?: string;
  /** Default /etc/resolv.conf. */
  hostResolvConfPath?: string;
}

/**
 * Writes `<dataDir>/pods/<uid>/etc-hosts` and `…/resolv.conf` atomically; returns both paths.
 * `podIp` is the pod's address (for host-network pods the node IP; their hosts file is not used).
 */
export async function writePodEtcFiles(dataDir: string, pod: EtcFilesPod, podIp: string | undefined, opts: WriteEtcFilesOptions): Promise<{ hostsPath: string; resolvConfPath: string }> {
  const dir = path.join(dataDir, 'pods', pod.metadata.uid);
  // Side by side, as the two files below: each step waits its turn in libuv's thread pool, which a
  // burst of pods fills (issue 19).
  const [, hostResolvConf] = await Promise.all([
    mkdir(dir, { recursive: true }),
    readFile(opts.hostResolvConfPath ?? '/etc/resolv.conf', 'utf8').catch(() => ''),
  ]);
  const hostsPath = path.join(dir, 'etc-hosts');
  const resolvConfPath = path.join(dir, 'resolv.conf');
  const files: [string, string][] = [
    [hostsPath, renderHostsFile(pod, podIp, opts.clusterDomain)],
    [resolvConfPath, renderResolvConf(pod, { clusterDNS: opts.clusterDNS, clusterDomain: opts.clusterDomain, hostResolvConf })],
  ];
  await Promise.all(files.map(async ([file, text]) => {
    await writeFile(file + '.tmp', text, { mode: 0o644 });
    await rename(file + '.tmp', file);
  }));
  return { hostsPath, resolvConfPath };
}

/**
 * Rewrites the hosts file with the pod IP IN PLACE (truncate and write the same inode, no rename):
 * a container created before the IP was known has the file bind-mounted already. Its process has
 * not started yet, so nothing reads the file half-written.
 */
export async function rewriteHostsFile(hostsPath: string, pod: EtcFilesPod, podIp: string, clusterDomain?: string): Promise<void> {
  await writeFile(hostsPath, renderHostsFile(pod, podIp, clusterDomain));
}
