/**
 * Periodic probing of one container instance, as the kubelet's prober worker does: wait
 * initialDelaySeconds after the container started, probe every periodSeconds, and change the
 * result only after successThreshold successes / failureThreshold failures in a row. Liveness and
 * readiness stay idle until the startup probe (if any) has succeeded; a startup or liveness
 * failure puts the worker on hold — the worker restarts the container and makes new workers.
 */
import { runProbe, type ProbeOutcome, type ProbeTarget } from './probes.ts';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
/** `unknown` only before a startup probe's first verdict. */
export type ProbeState = 'success' | 'failure' | 'unknown';

export interface ProbeWorkerOptions {
  kind: ProbeKind;
  probe: Record<string, any>;
  target: ProbeTarget;
  /** When the container instance started (initialDelaySeconds counts from here). */
  startedAt: Date;
  /** Called when the reported result changes. */
  onChange: (state: ProbeState, outcome: ProbeOutcome) => void;
  /** Liveness/readiness probe only while this says true (startup succeeded). */
  gate?: () => boolean;
  /** The pod's terminationGracePeriodSeconds (default 30), for kills after liveness/startup failure. */
  podTerminationGracePeriodSeconds?: number;
  /** Milliseconds per probe "second" for periodSeconds/initialDelaySeconds (tests shrink it). */
  timeScaleMs?: number;
  /** Injected prober (tests); default runProbe. */
  run?: (probe: Record<string, any>, target: ProbeTarget) => Promise<ProbeOutcome>;
}

/** Probes one container for one probe kind. */
export class ProbeWorker {
  private state: ProbeState;
  private lastRaw: 'success' | 'failure' | undefined;
  private run = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private onHold = false;

  constructor(private readonly opts: ProbeWorkerOptions) {
    // The kubelet's initial values: not ready, alive, startup undecided.
    this.state = opts.kind === 'readiness' ? 'failure' : opts.kind === 'liveness' ? 'success' : 'unknown';
  }

  /** The current (thresholded) result. */
  get result(): ProbeState {
    return this.state;
  }

  /** Grace period for a kill caused by this probe: the probe's own override, else the pod's. */
  get killGracePeriodSeconds(): number {
    return this.opts.probe.terminationGracePeriodSeconds ?? this.opts.podTerminationGracePeriodSeconds ?? 30;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const scale = this.opts.timeScaleMs ?? 1000;
    const delay = Math.max(0, this.opts.startedAt.getTime() + (this.opts.probe.initialDelaySeconds ?? 0) * scale - Date.now());
    this.schedule(delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    const scale = this.opts.timeScaleMs ?? 1000;
    const period = (this.opts.probe.periodSeconds ?? 10) * scale;
    const began = Date.now();
    if (this.shouldProbe()) {
      const outcome = await (this.opts.run ?? runProbe)(this.opts.probe, this.opts.target);
      if (this.stopped) return;
      this.observe(outcome);
    }
    this.schedule(Math.max(0, period - (Date.now() - began)));
  }

  private shouldProbe(): boolean {
    if (this.onHold) return false;
    // A startup probe stops once it has succeeded; the others wait for it.
    if (this.opts.kind === 'startup') return this.state !== 'success';
    return this.opts.gate ? this.opts.gate() : true;
  }

  private observe(outcome: ProbeOutcome): void {
    const raw = outcome.result;
    if (raw === this.lastRaw) this.run++;
    else {
      this.lastRaw = raw;
      this.run = 1;
    }
    const needed = raw === 'failure' ? (this.opts.probe.failureThreshold ?? 3) : (this.opts.probe.successThreshold ?? 1);
    if (this.run < needed) return;
    const changed = this.state !== raw;
    this.state = raw;
    if (raw === 'failure' && this.opts.kind !== 'readiness') {
      // The container is going to be killed; stop until a new instance gets a new worker.
      this.onHold = true;
      this.run = 0;
    }
    if (changed) this.opts.onChange(raw, outcome);
  }
}

export interface ContainerProbesOptions {
  /** The container spec (its livenessProbe, readinessProbe, startupProbe). */
  container: Record<string, any>;
  target: ProbeTarget;
  startedAt: Date;
  onChange: (kind: ProbeKind, state: ProbeState, outcome: ProbeOutcome) => void;
  podTerminationGracePeriodSeconds?: number;
  timeScaleMs?: number;
  run?: ProbeWorkerOptions['run'];
}

/** The three probes of one container instance, with startup gating liveness and readiness. */
export class ContainerProbes {
  readonly workers: Partial<Record<ProbeKind, ProbeWorker>> = {};

  constructor(opts: ContainerProbesOptions) {
    const specs: [ProbeKind, string][] = [['startup', 'startupProbe'], ['liveness', 'livenessProbe'], ['readiness', 'readinessProbe']];
    for (const [kind, field] of specs) {
      const probe = opts.container[field];
      if (!probe) continue;
      this.workers[kind] = new ProbeWorker({
        kind,
        probe,
        target: opts.target,
        startedAt: opts.startedAt,
        onChange: (state, outcome) => opts.onChange(kind, state, outcome),
        gate: kind === 'startup' ? undefined : () => this.started,
        podTerminationGracePeriodSeconds: opts.podTerminationGracePeriodSeconds,
        timeScaleMs: opts.timeScaleMs,
        run: opts.run,
      });
    }
  }

  /** ContainerStatus.started: true once the startup probe succeeded (or there is none). */
  get started(): boolean {
    return !this.workers.startup || this.workers.startup.result === 'success';
  }

  /** ContainerStatus.ready: readiness succeeded (or no readiness probe) after startup. */
  get ready(): boolean {
    if (!this.started) return false;
    return !this.workers.readiness || this.workers.readiness.result === 'success';
  }

  /** The kind that demands a restart (liveness or startup failed), if any. */
  get failed(): ProbeKind | undefined {
    if (this.workers.startup?.result === 'failure') return 'startup';
    if (this.workers.liveness?.result === 'failure') return 'liveness';
    return undefined;
  }

  start(): void {
    for (const w of Object.values(this.workers)) w.start();
  }

  stop(): void {
    for (const w of Object.values(this.workers)) w.stop();
  }
}
