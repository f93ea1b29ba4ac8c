/**
 * The agent's own Prometheus registry (the kubelet's /metrics, pkg/kubelet/metrics/metrics.go): pod
 * start latency, runtime operation counts, errors and latency by operation, image pulls. Each agent
 * has its own registry (several agents share a process in tests and `berth lab`), and the wrappers
 * here observe the parts without those parts knowing about metrics.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KubeObject } from '../../apis/object.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';

/** The kubelet's operation buckets (0.005 s … 10 s and beyond, exponential). */
const OPERATION_BUCKETS = [0.005, 0.0125, 0.03125, 0.078125, 0.1953125, 0.48828125, 1.220703125, 3.0517578125, 7.62939453125, 19.073486328125, 47.6837158203125, 119.20928955078125, 298.0232238769531, 745.0580596923828];
const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

/** The driver verbs that are runtime operations (CRI's RuntimeService calls, by Berth's names). */
const OPERATIONS = ['start', 'stop', 'destroy', 'recover', 'list', 'exec'] as const;

export class AgentMetrics {
  readonly registry = new Registry();
  readonly podStartDuration: Histogram<string>;
  readonly operations: Counter<'operation_type'>;
  readonly operationErrors: Counter<'operation_type'>;
  readonly operationDuration: Histogram<'operation_type'>;
  readonly imagePulls: Counter<'result'>;
  readonly imagePullDuration: Histogram<string>;
  private readonly startedPods = new Set<string>();
  /** Periodic samplers (metrics, traffic) by part: what they cost so far, read when scraped. */
  private readonly samplers = new Map<string, () => { samples: number; cpuSeconds: number }>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.podStartDuration = new Histogram({ name: 'kubelet_pod_start_duration_seconds', help: 'Duration in seconds from the agent seeing a pod for the first time to the pod starting to run', buckets: POD_START_BUCKETS, registers });
    this.operations = new Counter({ name: 'kubelet_runtime_operations_total', help: 'Cumulative number of runtime operations by operation type.', labelNames: ['operation_type'], registers });
    this.operationErrors = new Counter({ name: 'kubelet_runtime_operations_errors_total', help: 'Cumulative number of runtime operation errors by operation type.', labelNames: ['operation_type'], registers });
    this.operationDuration = new Histogram({ name: 'kubelet_runtime_operations_duration_seconds', help: 'Duration in seconds of runtime operations. Broken down by operation type.', labelNames: ['operation_type'], buckets: OPERATION_BUCKETS, registers });
    this.imagePulls = new Counter({ name: 'kubelet_image_pulls_total', help: 'Image pulls by the agent, by result (success, failure).', labelNames: ['result'], registers });
    this.imagePullDuration = new Histogram({ name: 'kubelet_image_pull_duration_seconds', help: 'Duration in seconds of successful image pulls.', buckets: [0.1, 0.5, 1, 5, 10, 20, 30, 60, 120, 300, 600], registers });
    // What sampling costs the node, in place (bench `metrics` reads it): cAdvisor's housekeeping, timed.
    const samplers = this.samplers;
    new Counter({
      name: 'berth_agent_sampling_cpu_seconds_total', help: 'CPU time of the event loop spent in periodic samples (resource metrics, observed connections), by part.', labelNames: ['part'], registers,
      collect() { this.reset(); for (const [part, cost] of samplers) this.inc({ part }, cost().cpuSeconds); },
    });
    new Counter({
      name: 'berth_agent_samples_total', help: 'Periodic samples taken (resource metrics, observed connections), by part.', labelNames: ['part'], registers,
      collect() { this.reset(); for (const [part, cost] of samplers) this.inc({ part }, cost().samples); },
    });
    // Process metrics (CPU, memory, event loop) of the process the agent runs in.
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** A periodic sampler whose cost (samples, CPU seconds so far) is exported as `part`. */
  countSampler(part: string, cost: () => { samples: number; cpuSeconds: number }): void {
    this.samplers.set(part, cost);
  }

  /** Times `fn` as a runtime operation. */
  async timeOperation<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const end = this.operationDuration.startTimer({ operation_type: operation });
    this.operations.inc({ operation_type: operation });
    try {
      return await fn();
    } catch (err) {
      this.operationErrors.inc({ operation_type: operation });
      throw err;
    } finally {
      end();
    }
  }

  /** The same driver, its operations timed (a Proxy: identity checks and optional methods behave as before). */
  instrumentDriver(driver: RuntimeDriver): RuntimeDriver {
    const ops = new Set<string>(OPERATIONS);
    return new Proxy(driver, {
      get: (target, prop, receiver) => {
        const v = Reflect.get(target, prop, receiver);
        if (typeof prop !== 'string' || !ops.has(prop) || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return (...args: unknown[]) => this.timeOperation(`${prop}_container`, () => v.apply(target, args));
      },
    });
  }

  /** An image pull function, counted and timed. */
  instrumentPull<A extends unknown[], T>(pull: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
    return async (...args: A) => {
      const end = this.imagePullDuration.startTimer();
      try {
        const out = await pull(...args);
        end();
        this.imagePulls.inc({ result: 'success' });
        return out;
      } catch (err) {
        this.imagePulls.inc({ result: 'failure' });
        throw err;
      }
    };
  }

  /**
   * A pod update seen by the agent: the first time every container of a pod is running, its start
   * latency (from creation, which is when the agent can first see it at best) is observed.
   */
  observePod(pod: KubeObject, now = Date.now()): void {
    const uid = pod.metadata.uid;
    if (!uid || this.startedPods.has(uid)) return;
    const statuses: Array<{ state?: { running?: unknown } }> = pod.status?.containerStatuses ?? [];
    const want = pod.spec?.containers?.length ?? 0;
    if (pod.status?.phase !== 'Running' || want === 0 || statuses.length < want || !statuses.every((s) => s.state?.running)) return;
    this.startedPods.add(uid);
    const created = Date.parse(pod.metadata.creationTimestamp ?? '');
    if (Number.isFinite(created)) this.podStartDuration.observe(Math.max(0, (now - created) / 1000));
  }

  /** The pod left the node: forget it. */
  forgetPod(uid: string): void {
    this.startedPods.delete(uid);
  }
}
