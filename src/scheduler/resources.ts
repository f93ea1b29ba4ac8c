/**
 * Resource vectors as the scheduler counts them (pkg/scheduler/framework types.go Resource and
 * resource.PodRequests): cpu in millicores, memory and ephemeral storage in bytes, extended
 * resources by name. A pod's request is max(sum of containers + sidecars, largest init step) + overhead.
 */
import { tryParseQuantity } from '../apis/quantity.ts';

/** A resource vector; `scalar` holds extended resources and hugepages (absent when none). */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  scalar?: Record<string, number>;
}

/** cpu and memory a pod counts as for scoring when it requests none (framework.DefaultMilliCPURequest…). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** An all-zero vector. */
export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0 };
}

/** Parses a ResourceList (`{cpu: '500m', memory: '1Gi', 'example.com/gpu': 2}`); `pods` is left out. */
export function parseResourceList(list: Record<string, unknown> | undefined | null): Resources {
  const r = emptyResources();
  if (!list || typeof list !== 'object') return r;
  for (const name of Object.keys(list)) {
    const v = tryParseQuantity(list[name]);
    if (v === undefined) continue;
    addOne(r, name, v);
  }
  return r;
}

function addOne(r: Resources, name: string, v: number): void {
  switch (name) {
    case 'cpu': r.milliCPU += Math.ceil(v * 1000 - 1e-9); break;
    case 'memory': r.memory += Math.ceil(v); break;
    case 'ephemeral-storage': r.ephemeralStorage += Math.ceil(v); break;
    case 'pods': break;
    default:
      r.scalar ??= {};
      r.scalar[name] = (r.scalar[name] ?? 0) + v;
  }
}

/** `a += b`, in place. */
export function addResources(a: Resources, b: Resources, sign = 1): void {
  a.milliCPU += sign * b.milliCPU;
  a.memory += sign * b.memory;
  a.ephemeralStorage += sign * b.ephemeralStorage;
  if (b.scalar) {
    a.scalar ??= {};
    for (const k of Object.keys(b.scalar)) a.scalar[k] = (a.scalar[k] ?? 0) + sign * b.scalar[k];
  }
}

/** `a = max(a, b)` per resource, in place. */
function maxResources(a: Resources, b: Resources): void {
  a.milliCPU = Math.max(a.milliCPU, b.milliCPU);
  a.memory = Math.max(a.memory, b.memory);
  a.ephemeralStorage = Math.max(a.ephemeralStorage, b.ephemeralStorage);
  if (b.scalar) {
    a.scalar ??= {};
    for (const k of Object.keys(b.scalar)) a.scalar[k] = Math.max(a.scalar[k] ?? 0, b.scalar[k]);
  }
}

function containerRequests(c: any): Resources {
  return parseResourceList(c?.resources?.requests);
}

/**
 * A pod's effective request: containers and restartable (sidecar) init containers add up; each
 * ordinary init container runs alone next to the sidecars started before it, so the pod needs the
 * largest such step if it exceeds the sum. Pod overhead is added on top.
 */
export function podRequests(spec: Record<string, any> | undefined): Resources {
  const total = emptyResources();
  for (const c of arr(spec?.containers)) addResources(total, containerRequests(c));
  const sidecars = emptyResources();
  const initMax = emptyResources();
  for (const c of arr(spec?.initContainers)) {
    const req = containerRequests(c);
    if (c?.restartPolicy === 'Always') {
      addResources(sidecars, req);
      const step = emptyResources();
      addResources(step, sidecars);
      maxResources(initMax, step);
    } else {
      const step = emptyResources();
      addResources(step, req);
      addResources(step, sidecars);
      maxResources(initMax, step);
    }
  }
  addResources(total, sidecars);
  maxResources(total, initMax);
  if (spec?.overhead) addResources(total, parseResourceList(spec.overhead));
  return total;
}

function arr(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}
