/**
 * `berth agent`: the node agent alone, talking to a Berth API server through a kubeconfig — the
 * same agent code that runs inside `berth up`. Its options and its run are shared with `berth join`
 * (join-command.ts), which makes the kubeconfig first.
 */
import { Command } from 'commander';
import { hostname } from 'node:os';
import { createLogger, type Logger } from '../util/log.ts';
import { startIdleMemoryReducer } from '../util/idle-memory.ts';
import { handleStopSignals, type StopSignals } from './stop-signals.ts';
import { defaultDataDir, parseListen } from './defaults.ts';
import { addRuntimeOptions, driverSettings } from './runtime-flags.ts';
import { DEFAULT_FENCE_AFTER_SECONDS, validateFenceAfter } from '../apis/volumes/replicated.ts';
import { DEFAULT_NODE_GRACE_PERIOD_SECONDS, NODE_LEASE_RENEW_INTERVAL_SECONDS } from '../controllers/node-lifecycle/node-lease-timing.ts';

/** The options every agent-running command has. */
export interface AgentCliOptions {
  nodeName?: string; dataDir: string; listen: string; clusterCidr: string; podCidr?: string; serviceCidr: string; bridge: string; backend: string; dnsUpstream?: string; cgroupRoot: string;
  defaultRuntimeClass?: string; defaultRegistry: string; insecureRegistry?: string[]; fenceAfter: string; storage?: boolean;
  /** The runtime drivers' binary flags (runtime-flags.ts), by camel-cased name. */
  [driverFlag: string]: unknown;
}

/** Adds the agent's options (node, data dir, stream server, CIDRs, bridge, runtimes, registries) to `cmd`. */
export function addAgentOptions(cmd: Command): Command {
  cmd
    .option('--node-name <name>', 'name of this node (default: the host name)')
    .option('--data-dir <dir>', 'pod data, logs, runtime state and the node credential', `${defaultDataDir()}/agent`)
    .option('--listen <host:port>', "address of the agent's log/exec server (TLS; only the API server's certificate, or callers allowed nodes/proxy, get in)", '127.0.0.1:10250')
    .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster', '10.42.0.0/16')
    .option('--pod-cidr <cidr>', "this node's pod addresses (inside --cluster-cidr; default: the range the server's node IPAM gives the Node)")
    .option('--service-cidr <cidr>', 'service (ClusterIP) addresses', '10.43.0.0/16')
    .option('--bridge <name>', "Berth's bridge on this host (one per cluster on a machine; also names its nftables tables and pod namespaces)", 'berth0')
    .option('--cgroup-root <path>', "the cgroup pods' cgroups are made below (the kubelet's --cgroup-root; one per node when several share a machine)", 'berth')
    .option('--backend <host-gw|vxlan>', "how pods reach other nodes' pods: host-gw (a route per node; nodes on one L2 segment) or vxlan", 'host-gw')
    .option('--dns-upstream <ip[:port],...>', "resolvers for names outside the cluster (used where the cluster DNS runs: the server's; kept for the lab's command line)")
    .option('--storage', 'this node is a storage node: it runs glusterd and holds replicas of replicated volumes (StorageClass replicated)');
  addRuntimeOptions(cmd);
  return cmd
    .option('--default-registry <host>', 'registry for short image names such as busybox:1.36', 'docker.io')
    .option('--insecure-registry <host:port...>', 'registries reached over plain HTTP (loopback ones always are)')
    .option('--fence-after <seconds>', "self-fencing: stateful pods' containers (StatefulSet members, pods with claims) are killed this long after the node's last Lease renewal; 0 turns it off", String(DEFAULT_FENCE_AFTER_SECONDS));
}

/** --fence-after checked against the default node grace (the control plane waits longer for a larger one anyway). */
function fenceAfterOf(o: AgentCliOptions): number {
  const s = Number(o.fenceAfter);
  return s === 0 ? 0 : validateFenceAfter(s, NODE_LEASE_RENEW_INTERVAL_SECONDS, DEFAULT_NODE_GRACE_PERIOD_SECONDS);
}

/** The node name the options give (the host name by default), lower-cased as a Node name must be. */
export function nodeNameOf(o: AgentCliOptions): string {
  return (o.nodeName ?? hostname()).toLowerCase();
}

/**
 * Runs the agent with the kubeconfig's credentials until a stop signal. A joined node's credential
 * (<data dir>/kubeconfig naming pki/client.*) is renewed by the agent itself before it expires.
 */
export async function runAgent(kubeconfig: string, o: AgentCliOptions, log: Logger, signals: StopSignals): Promise<void> {
  const listen = parseListen(o.listen);
  const fenceAfterSeconds = fenceAfterOf(o);
  const { HttpClient } = await import('../client/http-client.ts');
  const { startAgent } = await import('../agent/agent.ts');
  const { parseBackend } = await import('../agent/network/backend.ts');
  const { nthAddress } = await import('../apis/cidr.ts');
  const { clientCertificateRotation } = await import('../agent/node/node-bootstrap.ts');
  const client = HttpClient.fromKubeconfig(kubeconfig, undefined, { onFailover: (from, to, error) => log.warn('API server unreachable; using the next', { from, to, error }) });
  if (!client.conn.ca) throw new Error(`${kubeconfig} names no certificate authority: the agent's stream server trusts the cluster CA from it`);
  const nodeName = nodeNameOf(o);
  const rotation = clientCertificateRotation(client, kubeconfig, nodeName, log);
  await rotation?.start();
  const agent = await startAgent({
    client, nodeName, dataDir: o.dataDir, log, listen,
    tls: { clientCA: client.conn.ca.toString() },
    podCidr: o.podCidr, clusterCidr: o.clusterCidr, serviceCidr: o.serviceCidr, bridgeName: o.bridge, backend: parseBackend(o.backend),
    // The kube-dns Service's ClusterIP (the service CIDR's tenth address), as berth up gives its pods.
    clusterDNS: [nthAddress(o.serviceCidr, 10)], cgroupRoot: o.cgroupRoot,
    defaultRuntimeClass: o.defaultRuntimeClass,
    drivers: driverSettings(o), images: { defaultRegistry: o.defaultRegistry, insecureRegistries: o.insecureRegistry },
    progress: (s) => log.info(s), fenceAfterSeconds, storage: !!o.storage,
  });
  process.stdout.write(`Berth agent for node ${nodeName} is running (streams on ${agent.url}).\n`);
  signals.started(async () => { rotation?.stop(); await agent.stop(); client.close(); });
  startIdleMemoryReducer();
}

export function agentCommand(): Command {
  const cmd = new Command('agent')
    .description('run a node agent that joins an existing Berth API server')
    .requiredOption('--kubeconfig <file>', 'kubeconfig of the API server (a node credential, as berth join writes)');
  return addAgentOptions(cmd)
    .action(async (o: AgentCliOptions & { kubeconfig: string }) => {
      const log = createLogger();
      const signals = handleStopSignals(log, 'stopping (pods keep running; they are re-adopted on the next start)');
      try {
        await runAgent(o.kubeconfig, o, log, signals);
      } catch (err) {
        log.error('cannot start', { error: (err as Error).message });
        process.exit(1);
      }
    });
}
