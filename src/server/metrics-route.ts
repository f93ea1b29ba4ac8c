/**
 * The API server's `/metrics` (kube-apiserver's legacyregistry handler): one Prometheus text
 * exposition of every registry of the control plane — requests (api/request-metrics.ts), the store
 * (storage/storage-metrics.ts, with stored objects per resource), the controllers' work queues
 * (client/workqueue-metrics.ts), the scheduler (scheduler/scheduler-metrics.ts) and the process.
 * It is a non-resource URL: RBAC decides (`get` on `/metrics`, e.g. the system:monitoring role).
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { apiServerRegistry } from '../api/request-metrics.ts';
import type { Route } from '../api/route-table.ts';
import { workqueueRegistry } from '../client/workqueue-metrics.ts';
import { schedulerRegistry } from '../scheduler/scheduler-metrics.ts';
import { storageRegistry } from '../storage/storage-metrics.ts';

let processRegistry: Registry | undefined;

/** The route; every server of the process serves the same registries. */
export function metricsRoute(): Route {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  const merged = Registry.merge([processRegistry, apiServerRegistry, storageRegistry, workqueueRegistry, schedulerRegistry]);
  return {
    path: '/metrics',
    async handle(_r, res) {
      const body = await merged.metrics();
      res.writeHead(200, { 'Content-Type': merged.contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
}
