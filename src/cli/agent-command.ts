/**
 * `berth agent`: the node agent alone, talking HTTP to a Berth API server through a kubeconfig — the
 * same agent code that runs inside `berth up`.
 */
import { Command } from 'commander';
import { hostname } from 'node:os';
import { createLogger } from '../util/log.ts';
import { handleStopSignals } from './stop-signals.ts';
import { defaultDataDir, parseListen } from './defaults.ts';
import { addRuntimeOptions, driverSettings } from './runtime-flags.ts';

export function agentCommand(): Command {
  const cmd = new Command('agent')
    .description('run a node agent that joins an existing Berth API server')
    .requiredOption('--kubeconfig <file>', 'kubeconfig of the API server')
    .option('--node-name <name>', 'name of this node (default: the host name)')
    .option('--data-dir <dir>', 'pod data, logs and runtime state', `${defaultDataDir()}/agent`)
    .option('--listen <host:port>', "address of the agent's log/exec server (the API server proxies to it; no auth yet: keep it on a private address)", '127.0.0.1:10250')
    .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster', '10.42.0.0/16')
    .option('--pod-cidr <cidr>', "this node's pod addresses (inside --cluster-cidr)", '10.42.0.0/24')
    .option('--service-cidr <cidr>', 'service (ClusterIP) addresses', '10.43.0.0/16')
    .option('--bridge <name>', "Berth's bridge on this host (one per cluster on a machine)", 'berth0');
  addRuntimeOptions(cmd);
  return cmd
    .option('--default-registry <host>', 'registry for short image names such as busybox:1.36', 'docker.io')
    .option('--insecure-registry <host:port...>', 'registries reached over plain HTTP (loopback ones always are)')
    .action(async (o: { kubeconfig: string; nodeName?: string; dataDir: string; listen: string; clusterCidr: string; podCidr: string; serviceCidr: string; bridge: string; defaultRuntimeClass: string; defaultRegistry: string; insecureRegistry?: string[] }) => {
      const log = createLogger();
      const signals = handleStopSignals(log, 'stopping (pods keep running; they are re-adopted on the next start)');
      try {
        const listen = parseListen(o.listen);
        const { HttpClient } = await import('../client/http-client.ts');
        const { startAgent } = await import('../agent/agent.ts');
        const client = HttpClient.fromKubeconfig(o.kubeconfig);
        const nodeName = (o.nodeName ?? hostname()).toLowerCase();
        const agent = await startAgent({
          client, nodeName, dataDir: o.dataDir, log, listen,
          podCidr: o.podCidr, clusterCidr: o.clusterCidr, serviceCidr: o.serviceCidr, bridgeName: o.bridge,
          defaultRuntimeClass: o.defaultRuntimeClass,
          drivers: driverSettings(o), images: { defaultRegistry: o.defaultRegistry, insecureRegistries: o.insecureRegistry },
          progress: (s) => log.info(s),
        });
        process.stdout.write(`Berth agent for node ${nodeName} is running (streams on ${agent.url}).\n`);
        signals.started(() => agent.stop());
      } catch (err) {
        log.error('cannot start', { error: (err as Error).message });
        process.exit(1);
      }
    });
}
