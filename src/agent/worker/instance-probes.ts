/**
 * Liveness, readiness and startup probes of one container instance: results land in the instance
 * (ready / started), failures become Unhealthy events, and a failed liveness or startup probe stops
 * the container so its restart policy takes over.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ContainerProbes } from '../pod/probe-worker.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import { containerFieldPath } from '../pod/container-field-path.ts';
import { execCapture } from './exec-capture.ts';
import type { Instance } from './instance.ts';

export interface ProbeContext {
  pod(): KubeObject;
  podIP?: string;
  recorder: EventRecorder;
  /** Something changed: the worker syncs (status, restarts). */
  onChange(): void;
}

export function startInstanceProbes(inst: Instance, ctx: ProbeContext): void {
  const c = inst.spec;
  if (!c.livenessProbe && !c.readinessProbe && !c.startupProbe) return;
  const driver = inst.driver!;
  const id = inst.id!;
  inst.probes = new ContainerProbes({
    container: c,
    startedAt: inst.startedAt ?? new Date(),
    podTerminationGracePeriodSeconds: ctx.pod().spec?.terminationGracePeriodSeconds,
    target: { podIP: ctx.podIP ?? '127.0.0.1', ports: c.ports, exec: (argv, timeoutMs) => execCapture(driver, id, argv, timeoutMs) },
    onChange: (kind, state, outcome) => {
      const pod = ctx.pod();
      const fieldPath = containerFieldPath(pod, inst.name);
      if (state === 'failure') {
        const what = kind[0].toUpperCase() + kind.slice(1);
        void ctx.recorder.event(pod, 'Warning', 'Unhealthy', `${what} probe failed: ${outcome.message}`.trim(), { fieldPath });
        if ((kind === 'liveness' || kind === 'startup') && inst.running && !inst.killing && inst.id === id) {
          inst.killing = true;
          void ctx.recorder.event(pod, 'Normal', 'Killing', `Container ${inst.name} failed ${kind} probe, will be restarted`, { fieldPath });
          const grace = (inst.spec[`${kind}Probe`]?.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
          void driver.stop(id, grace).catch(() => {});
        }
      }
      ctx.onChange();
    },
  });
  inst.probes.start();
}
