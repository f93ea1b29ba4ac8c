/**
 * `berth up`: the README's main command — a single-node cluster in one process.
 */
import { Command } from 'commander';
import { createLogger } from '../util/log.ts';
import { startIdleMemoryReducer } from '../util/idle-memory.ts';
import { handleStopSignals } from './stop-signals.ts';
import { defaultDataDir, DEFAULT_LISTEN, parseListen, parseBoolFlag } from './defaults.ts';
import { addRuntimeOptions, driverSettings } from './runtime-flags.ts';

export function upCommand(): Command {
  const cmd = new Command('up')
    .description('run a single-node cluster: API server, controllers, scheduler and a node agent in one process')
    .option('--data-dir <dir>', 'state, kubeconfig, pod data and logs', defaultDataDir())
    .option('--listen <host:port>', 'address to serve the Kubernetes API on', DEFAULT_LISTEN)
    .option('--store <store>', "'sqlite' (embedded) or etcd://HOST:PORT[,HOST:PORT…]", 'sqlite')
    .option('--node-name <name>', 'name of this node (default: the host name)')
    .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster', '10.42.0.0/16')
    .option('--pod-cidr <cidr>', "this node's pod addresses (inside --cluster-cidr)", '10.42.0.0/24')
    .option('--service-cidr <cidr>', 'service (ClusterIP) addresses', '10.43.0.0/16')
    .option('--bridge <name>', "Berth's bridge on this host (one per cluster on a machine)", 'berth0')
    .option('--service-node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--tls-san <name...>', 'more host names or IP addresses for the serving certificate (repeatable)')
    .option('--watch-cache <true|false>', 'serve lists from memory (a watch cache in front of the store)', parseBoolFlag, true)
    .option('--encryption-provider-config <file>', 'an EncryptionConfiguration: the resources it names (e.g. secrets) are encrypted at rest')
    .option('--dns-upstream <addrs>', "comma-separated ip[:port] resolvers for names outside the cluster (default: the host's resolv.conf)");
  addRuntimeOptions(cmd);
  return cmd
    .option('--default-registry <host>', 'registry for short image names such as busybox:1.36', 'docker.io')
    .option('--insecure-registry <host:port...>', 'registries reached over plain HTTP (loopback ones always are)')
    .action(async (o: { dataDir: string; listen: string; store: string; watchCache: boolean; nodeName?: string; clusterCidr: string; podCidr: string; serviceCidr: string; bridge: string; serviceNodePortRange: string; dnsUpstream?: string; defaultRuntimeClass?: string; defaultRegistry: string; insecureRegistry?: string[]; tlsSan?: string[]; encryptionProviderConfig?: string }) => {
      const log = createLogger();
      const t0 = performance.now();
      const say = (s: string) => process.stdout.write(`  ${String(Math.round(performance.now() - t0)).padStart(5)} ms  ${s}\n`);
      let listen;
      try { listen = parseListen(o.listen); } catch (err) { log.error((err as Error).message); process.exit(2); }
      process.stdout.write('Starting Berth (single node)\n');
      const signals = handleStopSignals(log, 'stopping (pods keep running; they are re-adopted on the next start)');
      let cluster;
      try {
        cluster = await (await import('../server/all-in-one.ts')).startAllInOne({
          dataDir: o.dataDir, host: listen.host, port: listen.port, store: o.store, watchCache: o.watchCache, log, nodeName: o.nodeName,
          clusterCidr: o.clusterCidr, podCidr: o.podCidr, serviceCidr: o.serviceCidr, bridgeName: o.bridge, nodePortRange: o.serviceNodePortRange, defaultRuntimeClass: o.defaultRuntimeClass,
          tlsSans: o.tlsSan, encryptionProviderConfig: o.encryptionProviderConfig, drivers: driverSettings(o), images: { defaultRegistry: o.defaultRegistry, insecureRegistries: o.insecureRegistry },
          dnsUpstreams: o.dnsUpstream?.split(',').map((x) => x.trim()).filter(Boolean),
          progress: say,
        });
      } catch (err) {
        log.error('cannot start', { error: (err as Error).message });
        process.exit(1);
      }
      const kc = cluster.server.kubeconfigPath;
      process.stdout.write(`\nNode ${cluster.nodeName} is Ready (${Math.round(performance.now() - t0)} ms).\n`
        + `kubeconfig: ${kc}\n\n  export KUBECONFIG=${kc}\n  kubectl apply -f examples/pod.yaml\n  kubectl get pods -o wide\n\n`);
      signals.started(() => cluster.stop());
      startIdleMemoryReducer();
    });
}
