/**
 * Starts the controllers behind Services: EndpointSlices (what the service proxy and DNS read) and
 * the mirrored core/v1 Endpoints (what `kubectl get endpoints` and older clients read).
 */
import type { Client } from '../client/client.ts';
import type { InformerFactory } from '../client/informer-factory.ts';
import type { RunningController } from '../client/controller.ts';
import type { Logger } from '../util/log.ts';
import { EndpointSliceController } from './endpoints/endpointslice-controller.ts';
import { EndpointsController } from './endpoints/endpoints-controller.ts';

export async function startServiceNetworkControllers(client: Client, factory: InformerFactory, log: Logger): Promise<{ stop(): Promise<void> }> {
  const slices = new EndpointSliceController(client, factory, log.child({ controller: 'endpointslice' }));
  const endpoints = new EndpointsController(client, factory, log.child({ controller: 'endpoints' }));
  factory.start();
  await factory.waitForSync();
  const running: RunningController[] = [slices.run(2), endpoints.run(2)];
  return { async stop() { await Promise.all(running.map((r) => r.stop())); } };
}
