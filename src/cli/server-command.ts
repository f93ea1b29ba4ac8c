/**
 * `berth server`: runs the API server (and the control-plane controllers) until SIGTERM / SIGINT.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { createLogger } from '../util/log.ts';
import { startIdleMemoryReducer } from '../util/idle-memory.ts';
import { handleStopSignals } from './stop-signals.ts';
import { defaultDataDir, DEFAULT_LISTEN, parseListen, parseBoolFlag } from './defaults.ts';
import { validateNodeGracePeriod } from '../controllers/node-lifecycle/node-lease-timing.ts';

export function serverCommand(): Command {
  return new Command('server')
    .description('run the Berth API server (control plane)')
    .option('--data-dir <dir>', 'state, kubeconfig and logs', defaultDataDir())
    .option('--listen <host:port>', 'address to serve the Kubernetes API on', DEFAULT_LISTEN)
    .option('--store <store>', "'sqlite' (embedded) or etcd://HOST:PORT[,HOST:PORT…]", 'sqlite')
    .option('--service-cidr <cidr>', 'service (ClusterIP) addresses', '10.43.0.0/16')
    .option('--service-node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster: each Node gets a range of it (node IPAM)', '10.42.0.0/16')
    .option('--node-cidr-mask-size <bits>', "prefix length of each Node's pod range", '24')
    .option('--dns-upstream <ip[:port],...>', "resolvers for names outside the cluster, for the cluster DNS on the advertise address (default: the host's resolv.conf)")
    .option('--terminated-pod-gc-threshold <n>', 'finished (Succeeded/Failed) pods kept before the oldest are deleted; 0: never by count', '12500')
    .option('--node-monitor-grace-period <seconds>', 'seconds without a node Lease renewal before the node is NotReady (at least two of the agents\' 2 s renewals)', '8')
    .option('--default-not-ready-toleration-seconds <seconds>', 'tolerationSeconds for node.kubernetes.io/not-ready given to pods without one (DefaultTolerationSeconds admission; Kubernetes: 300)', '30')
    .option('--default-unreachable-toleration-seconds <seconds>', 'tolerationSeconds for node.kubernetes.io/unreachable given to pods without one (Kubernetes: 300)', '30')
    .option('--replica-rebuild-delay <seconds>', 'seconds a replicated volume\'s replica on a node that is not Ready waits before it is rebuilt on another storage node', '30')
    .option('--tls-san <name...>', 'more host names or IP addresses for the serving certificate (repeatable)')
    .option('--watch-cache <true|false>', 'serve lists from memory (a watch cache in front of the store)', parseBoolFlag, true)
    .option('--scheduler-thread <true|false>', 'run the scheduler on a worker thread of this process (its own core and informers); false: on the API server\'s event loop', parseBoolFlag, true)
    .option('--encryption-provider-config <file>', 'an EncryptionConfiguration: the resources it names (e.g. secrets) are encrypted at rest')
    .option('--server-token-file <file>', "another server of the cluster joins: a copy of the first server's DATA/server-token (the cluster's CA key is sealed with it in the store)")
    .action(async (o: { dataDir: string; listen: string; store: string; watchCache: boolean; schedulerThread: boolean; serviceCidr: string; serviceNodePortRange: string; nodeMonitorGracePeriod: string; terminatedPodGcThreshold: string; defaultNotReadyTolerationSeconds: string; defaultUnreachableTolerationSeconds: string; replicaRebuildDelay: string; tlsSan?: string[]; encryptionProviderConfig?: string; serverTokenFile?: string; clusterCidr: string; nodeCidrMaskSize: string; dnsUpstream?: string }) => {
      const log = createLogger();
      let listen;
      let serverToken: string | undefined;
      try {
        listen = parseListen(o.listen);
        validateNodeGracePeriod(Number(o.nodeMonitorGracePeriod));
        if (o.serverTokenFile) serverToken = readServerTokenFile(o.serverTokenFile);
        if (!(Number(o.replicaRebuildDelay) >= 0)) throw new Error(`--replica-rebuild-delay must be a number of seconds ≥ 0, got ${o.replicaRebuildDelay}`);
      } catch (err) {
        log.error((err as Error).message);
        process.stderr.write(`berth server: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const t0 = performance.now();
      const signals = handleStopSignals(log, 'stopping');
      let server;
      try {
        server = await (await import('../server/berth-server.ts')).startServer({ dataDir: o.dataDir, host: listen.host, port: listen.port, store: o.store, watchCache: o.watchCache, schedulerThread: o.schedulerThread, log, controllers: true, serviceCidr: o.serviceCidr, nodePortRange: o.serviceNodePortRange, nodeGracePeriodSeconds: Number(o.nodeMonitorGracePeriod), terminatedPodGcThreshold: Number(o.terminatedPodGcThreshold), replicaRebuildDelaySeconds: Number(o.replicaRebuildDelay), defaultTolerationSeconds: { notReady: Number(o.defaultNotReadyTolerationSeconds), unreachable: Number(o.defaultUnreachableTolerationSeconds) }, tlsSans: o.tlsSan, encryptionProviderConfig: o.encryptionProviderConfig, serverToken, clusterCidr: o.clusterCidr, nodeCidrMaskSize: Number(o.nodeCidrMaskSize), clusterDns: { upstreams: o.dnsUpstream?.split(',').map((x) => x.trim()).filter(Boolean) } });
      } catch (err) {
        log.error('cannot start', { error: (err as Error).message });
        process.exit(1);
      }
      process.stdout.write(`Berth API server on ${server.url} (ready in ${Math.round(performance.now() - t0)} ms)\n`
        + `kubeconfig: ${server.kubeconfigPath}\n  export KUBECONFIG=${server.kubeconfigPath}\n`
        + `join a node (as root on it, with a copy of the token file):\n  ${server.joinCommand}\n`);
      signals.started(() => server.stop());
      startIdleMemoryReducer();
    });
}

/** --server-token-file's token: the file's one line. */
function readServerTokenFile(file: string): string {
  let text;
  try { text = readFileSync(file, 'utf8').trim(); } catch (err) { throw new Error(`cannot read --server-token-file: ${(err as Error).message}`); }
  if (!text) throw new Error(`--server-token-file ${file} is empty`);
  return text;
}
