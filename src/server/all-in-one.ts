/**
 * `berth up`: a single-node cluster in one process — the control plane (startServer: API server,
 * controllers, scheduler) and a node agent — talking through the in-process client, no HTTP between
 * them.
 *
 *   startServer (API, controllers, scheduler) ─▶ LocalClient ─▶ node agent (pods → containers)
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from './berth-server.ts';
import { LocalClient } from '../client/local-client.ts';
import { startAgent, type RunningAgent } from '../agent/agent.ts';
import type { Logger } from '../util/log.ts';

export interface AllInOneOptions {
  dataDir: string;
  host: string;
  port: number;
  store: string;
  log: Logger;
  nodeName?: string;
  clusterCidr: string;
  podCidr: string;
  serviceCidr: string;
  nodePortRange?: string;
  bridgeName?: string;
  defaultRuntimeClass: string;
  progress: (step: string) => void;
  /** Restart back-off base for crashing containers (tests shorten it). */
  backoffBaseMs?: number;
}

export interface AllInOne {
  server: RunningServer;
  agent: RunningAgent;
  nodeName: string;
  /** Stops everything; running pods keep running unless `terminatePods`. */
  stop(terminatePods?: boolean): Promise<void>;
}

export async function startAllInOne(opts: AllInOneOptions): Promise<AllInOne> {
  const nodeName = (opts.nodeName ?? hostname()).toLowerCase();
  opts.progress('starting the API server');
  const server = await startServer({ dataDir: opts.dataDir, host: opts.host, port: opts.port, store: opts.store, log: opts.log, controllers: true, serviceCidr: opts.serviceCidr, nodePortRange: opts.nodePortRange });
  opts.progress(`API server on ${server.url}`);
  const client = new LocalClient(server.registry);
  let agent: RunningAgent;
  try {
    agent = await startAgent({
      client, nodeName, dataDir: join(opts.dataDir, 'agent'), log: opts.log,
      podCidr: opts.podCidr, clusterCidr: opts.clusterCidr, serviceCidr: opts.serviceCidr, bridgeName: opts.bridgeName,
      listen: { host: '127.0.0.1', port: 0 }, defaultRuntimeClass: opts.defaultRuntimeClass,
      backoff: opts.backoffBaseMs ? { baseMs: opts.backoffBaseMs } : undefined,
      progress: opts.progress,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    server, agent, nodeName,
    async stop(terminatePods = false) {
      if (terminatePods) await agent.terminateAll();
      await agent.stop();
      await server.stop();
    },
  };
}
