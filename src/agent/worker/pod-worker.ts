/**
 * One pod's life on this node, as the kubelet's pod worker lives it: sandbox (network namespace,
 * /etc files, volumes), init containers in order, then the containers with their restart policy,
 * CrashLoopBackOff and probes; the status written back on change; graceful termination and cleanup.
 *
 * Every trigger (a pod update, a container exit, a probe result, a back-off timer) calls
 * `schedule()`; `sync()` runs one at a time and is idempotent: it compares what should run with
 * what runs and acts on the difference.
 */
import { rm } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import type { ContainerHandle, RuntimeDriver } from '../runtime/driver.ts';
import { mountTmpfs, type VolumeContext } from '../pod/volumes.ts';
import { computePodStatus, statusEqual, Reasons } from '../pod/pod-status.ts';
import { backoffKey, crashLoopDelay } from './crash-loop.ts';
import { containerFieldPath } from '../pod/container-field-path.ts';
import { containerLogPath } from '../streams/log-file.ts';
import { SandboxNetworkError, type SandboxInfo } from './container-spec.ts';
import { prepareContainer } from './container-start.ts';
import { DEFAULT_CGROUP_ROOT, type WorkerDeps } from './worker-deps.ts';
import { adoptCompletedInits, adoptRunning, markExited, newInstance, observeInstance, runPreStop, type Instance } from './instance.ts';
import { startInstanceProbes } from './instance-probes.ts';
import { createSandbox } from './sandbox.ts';
import { PodVolumes } from './pod-volumes.ts';
import { rfc3339 } from '../../apis/time.ts';

const RETRY_MS = 2000;
/** Metadata the worker acts on (termination; the downward API's labels and annotations; runtime overrides). */
const WATCHED_META = ['deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations'] as const;

export class PodWorker {
  pod: KubeObject;
  readonly uid: string;
  private instances: Instance[] = [];
  private sandbox?: SandboxInfo;
  private readonly volumes: PodVolumes;
  private startTime = rfc3339();
  /** The status being written (its watch echo may arrive before the write returns). */
  private writing?: Record<string, any>;
  private dirty = false;
  private running = false;
  private timer?: NodeJS.Timeout;
  /** The pod is gone from the API (DELETED event). */
  private deleted = false;
  private terminated = false;
  /** All containers finished for good (Succeeded / Failed): the runtime is cleaned up. */
  private finished = false;
  private runtimeCleaned = false;
  private terminating?: Promise<void>;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(pod: KubeObject, private readonly deps: WorkerDeps) {
    this.pod = pod;
    this.uid = pod.metadata.uid!;
    this.done = new Promise((r) => { this.resolveDone = r; });
    this.instances = [
      ...(pod.spec?.initContainers ?? []).map((c: Record<string, any>) => newInstance(pod, c, true)),
      ...(pod.spec?.containers ?? []).map((c: Record<string, any>) => newInstance(pod, c, false)),
    ];
    if (pod.status?.startTime) this.startTime = pod.status.startTime;
    const worker = this;
    this.volumes = new PodVolumes({
      get pod() { return worker.pod; }, uid: this.uid, get key() { return worker.key; },
      context: () => this.volumeContext(),
      live: () => !(this.deleted || this.terminating || this.finished || this.terminated),
    }, deps);
  }

  get cgroupParent(): string {
    return `${this.deps.cgroupRoot ?? DEFAULT_CGROUP_ROOT}/pod-${this.uid}`;
  }

  get podDir(): string {
    return join(this.deps.dataDir, 'pods', this.uid);
  }

  instance(name: string): Instance | undefined {
    return this.instances.find((i) => i.name === name);
  }

  /** Re-adopts a container a previous agent started (agent restart). */
  adopt(name: string, driver: RuntimeDriver, id: string, restartCount: number, handle: ContainerHandle): void {
    const inst = this.instance(name);
    if (!inst) return;
    adoptRunning(inst, this.pod, driver, id, restartCount, handle);
    this.startProbes(inst);
    this.watchExit(inst);
  }

  /** Marks init containers that already completed (agent restart: they are not run again). */
  adoptCompletedInit(): void {
    adoptCompletedInits(this.pod, (name) => this.instance(name));
  }


  /** Sandbox facts recovered after an agent restart. */
  adoptSandbox(sandbox: SandboxInfo): void {
    this.sandbox = {
      hostsPath: join(this.podDir, 'etc-hosts'),
      resolvConfPath: join(this.podDir, 'resolv.conf'),
      ...sandbox,
    };
  }

  update(pod: KubeObject): void {
    // The echo of our own status writes (this.pod is already the last patch's answer) or an older
    // event: nothing new. (Berth's resourceVersions are store revisions, so they compare as numbers.)
    if (Number(pod.metadata.resourceVersion) <= Number(this.pod.metadata.resourceVersion)) return;
    // As the kubelet's config source does, only a change of what the pod asks for triggers a sync;
    // status-only updates (the scheduler's condition, our own writes) do not.
    const changed = !isDeepStrictEqual(pod.spec, this.pod.spec) || WATCHED_META.some((f) => !isDeepStrictEqual(pod.metadata[f], this.pod.metadata[f]));
    // Someone else rewrote the status (the node lifecycle controller's Ready=False while this node
    // was unreachable): a sync writes this agent's view again, as the kubelet's status manager does.
    // The echo of a write still in flight (the watch can deliver it before the patch's answer) is ours.
    const statusOverwritten = !statusEqual(pod.status, this.pod.status) && !(this.writing && statusEqual(pod.status, this.writing));
    this.pod = pod;
    if (changed || statusOverwritten) this.schedule();
  }

  /** The pod was removed from the API: stop and clean up without writing back. */
  remove(): void {
    this.deleted = true;
    this.schedule();
  }

  schedule(delayMs = 0): void {
    if (delayMs > 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => { this.timer = undefined; this.schedule(); }, delayMs);
      this.timer.unref();
      return;
    }
    this.dirty = true;
    if (!this.running) void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.dirty && !this.terminated) {
        this.dirty = false;
        try {
          await this.sync();
        } catch (err) {
          this.deps.log.warn('pod sync failed; retrying', { pod: this.key, error: (err as Error).message });
          this.schedule(RETRY_MS);
        }
      }
    } finally {
      this.running = false;
    }
  }

  get key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  private async sync(): Promise<void> {
    if (this.deleted || this.pod.metadata.deletionTimestamp) {
      this.terminating ??= this.terminate();
      await this.terminating;
      return;
    }
    if (this.finished) {
      await this.cleanupRuntime();
      await this.pushStatus();
      return;
    }
    if (!(await this.ensureSandbox())) { await this.pushStatus(); return; }
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    // Init containers, in order: each must succeed before the next starts.
    for (const inst of this.instances.filter((i) => i.init)) {
      if (inst.exit?.exitCode === 0 && !inst.running) continue;
      if (inst.running || inst.starting) { await this.pushStatus(); return; }
      if (inst.exit) {
        if (policy === 'Never') { this.finished = true; this.schedule(); await this.pushStatus(); return; }
        if (this.inBackoff(inst)) { await this.pushStatus(); return; }
      } else if (inst.everStarted && this.inBackoff(inst)) { await this.pushStatus(); return; }
      await this.start(inst);
      await this.pushStatus();
      return;
    }
    let anyActive = false;
    for (const inst of this.instances.filter((i) => !i.init)) {
      if (inst.running || inst.starting) { anyActive = true; continue; }
      if (inst.exit) {
        const restart = policy === 'Always' || (policy === 'OnFailure' && inst.exit.exitCode !== 0);
        if (!restart) continue;
      }
      anyActive = true;
      if (inst.everStarted && this.inBackoff(inst)) continue;
      await this.start(inst);
    }
    if (!anyActive) {
      this.finished = true;
      this.schedule();
    }
    await this.pushStatus();
  }

  /** True (and the status says CrashLoopBackOff) while the container must wait to restart. */
  private inBackoff(inst: Instance): boolean {
    const delay = crashLoopDelay(this.pod, inst, this.deps);
    if (delay === undefined) return false;
    this.schedule(delay + 10);
    return true;
  }

  /** Network namespace, /etc files and volumes; false (and a retry) while something is missing. */
  private async ensureSandbox(): Promise<boolean> {
    const pod = this.pod;
    if (!this.sandbox) {
      try {
        this.sandbox = await createSandbox(pod, this.deps);
      } catch (err) {
        this.sandbox = undefined;
        await this.deps.recorder.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
        this.schedule(RETRY_MS);
        return false;
      }
    }
    if (!(await this.volumes.ensure())) {
      this.schedule(RETRY_MS);
      return false;
    }
    return true;
  }

  private volumeContext(): VolumeContext {
    return { podDir: this.podDir, lookup: this.deps.lookup, client: this.deps.volumeLookup, facts: this.facts(), nodeAllocatable: this.deps.nodeAllocatable, tokens: this.deps.tokens, mountTmpfs };
  }

  private facts() {
    return {
      podIP: this.sandbox?.ip, podIPs: this.sandbox?.ip ? [this.sandbox.ip] : undefined, hostIP: this.deps.hostIP,
      nodeName: this.deps.nodeName, serviceAccountName: this.pod.spec?.serviceAccountName,
    };
  }

  /** Starts the container's next instance; failures become waiting states and a later retry. */
  private async start(inst: Instance): Promise<void> {
    const pod = this.pod;
    const fieldPath = containerFieldPath(pod, inst.name);
    const restartCount = inst.everStarted ? inst.restartCount + 1 : inst.restartCount;
    inst.starting = true;
    try {
      const driver = await this.deps.runtime.pick(pod, inst.name);
      const prepared = await prepareContainer({
        pod, container: inst.spec, restartCount, driver, deps: this.deps, sandbox: this.sandbox!,
        volumePaths: this.volumes.paths, cgroupParent: this.cgroupParent, facts: this.facts(),
      });
      if ('waiting' in prepared) {
        if (!prepared.pull) return this.failStart(inst, prepared.waiting.reason, prepared.waiting.message);
        // Image pulls keep their own back-off (the puller's). As with the kubelet, a failed pull shows
        // ErrImagePull for a while (half the back-off, ≤ 5 s), then ImagePullBackOff until the retry.
        inst.state = { waiting: prepared.waiting };
        const retryMs = prepared.retryMs ?? RETRY_MS;
        this.schedule(prepared.waiting.reason === 'ErrImagePull' ? Math.min(retryMs / 2, 5000) : retryMs);
        return;
      }
      const { spec } = prepared;
      let handle: ContainerHandle;
      try {
        handle = await driver.start(spec);
      } catch (err) {
        await driver.destroy(spec.id).catch(() => {});
        if (err instanceof SandboxNetworkError) return this.sandboxFailed(err);
        this.failStart(inst, Reasons.CreateContainerError, (err as Error).message);
        return;
      }
      if (inst.lastTerminated) inst.lastState = inst.lastTerminated;
      inst.driver = driver;
      inst.id = spec.id;
      inst.imageID = prepared.imageID;
      inst.restartCount = restartCount;
      inst.everStarted = true;
      inst.running = true;
      inst.exit = undefined;
      inst.killing = false;
      inst.startedAt = handle.startedAt;
      inst.state = { running: { startedAt: rfc3339(handle.startedAt) } };
      void this.deps.recorder.event(pod, 'Normal', 'Created', `Created container ${inst.name}`, { fieldPath });
      void this.deps.recorder.event(pod, 'Normal', 'Started', `Started container ${inst.name}`, { fieldPath });
      this.startProbes(inst);
      this.watchExit(inst);
    } finally {
      inst.starting = false;
    }
  }

  /** The network set up beside the first container's creation failed: a new sandbox next time. */
  private async sandboxFailed(err: Error): Promise<void> {
    this.sandbox = undefined;
    await this.deps.recorder.event(this.pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${err.message}`);
    this.schedule(RETRY_MS);
  }

  private failStart(inst: Instance, reason: string, message: string): void {
    inst.state = { waiting: { reason, message } };
    void this.deps.recorder.event(this.pod, 'Warning', 'Failed', `Error: ${message}`, { fieldPath: containerFieldPath(this.pod, inst.name) });
    this.deps.backoff.recordExit(backoffKey(this.uid, inst.name), new Date());
    this.schedule(RETRY_MS);
  }

  private startProbes(inst: Instance): void {
    startInstanceProbes(inst, {
      pod: () => this.pod, podIP: this.sandbox?.ip, recorder: this.deps.recorder, onChange: () => this.schedule(),
    });
  }

  private watchExit(inst: Instance): void {
    const driver = inst.driver!;
    const id = inst.id!;
    driver.wait(id).then(async (exit) => {
      if (inst.id !== id) return;
      markExited(inst, exit);
      this.deps.backoff.recordExit(backoffKey(this.uid, inst.name), exit.finishedAt, inst.startedAt);
      // The instance's runtime state goes; its log file stays for `kubectl logs --previous`.
      await driver.destroy(id).catch((err) => this.deps.log.warn('destroy failed', { id, error: String(err) }));
      this.schedule();
    }, (err) => {
      this.deps.log.warn('wait failed', { pod: this.key, container: inst.name, error: (err as Error).message });
      inst.running = false;
      inst.exit = { exitCode: 255, oomKilled: false, finishedAt: new Date() };
      this.schedule();
    });
  }

  /** Writes the pod status when it differs from what the API has. */
  private async pushStatus(): Promise<void> {
    if (this.deleted) return;
    const status = computePodStatus(this.pod, {
      init: this.instances.filter((i) => i.init).map((i) => observeInstance(i)),
      containers: this.instances.filter((i) => !i.init).map((i) => observeInstance(i)),
      podIP: this.sandbox?.ip, podIPs: this.sandbox?.ip ? [this.sandbox.ip] : undefined,
      hostIP: this.deps.hostIP, startTime: this.startTime, sandboxReady: !!this.sandbox?.ip,
      podIsTerminal: this.finished,
    });
    if (statusEqual(this.pod.status, status)) return;
    this.writing = status;
    try {
      this.pod = await this.deps.client.patch(R.pods, this.pod.metadata.namespace, this.pod.metadata.name!, 'merge', { status }, 'status');
    } catch (err) {
      if (isNotFound(err)) { this.deleted = true; this.schedule(); return; }
      throw err;
    } finally {
      this.writing = undefined;
    }
  }

  /** Stops every container and removes the sandbox (terminal pods keep their object). */
  private async cleanupRuntime(grace?: number): Promise<void> {
    if (this.runtimeCleaned) return;
    const graceMs = (grace ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    await Promise.all(this.instances.filter((i) => i.running && i.driver && i.id).map(async (inst) => {
      inst.killing = true;
      inst.probes?.stop();
      void this.deps.recorder.event(this.pod, 'Normal', 'Killing', `Stopping container ${inst.name}`, { fieldPath: containerFieldPath(this.pod, inst.name) });
      await runPreStop(inst, graceMs);
      await inst.driver!.stop(inst.id!, graceMs).catch(() => {});
      await inst.driver!.destroy(inst.id!).catch(() => {});
    }));
    if (!this.pod.spec?.hostNetwork) await this.deps.network.teardown(this.uid).catch((err) => this.deps.log.warn('network teardown failed', { pod: this.key, error: String(err) }));
    // Only the volumes go here: the container logs stay for `kubectl logs` of a finished pod (the pod dir goes on delete).
    await this.volumes.cleanup(join(this.podDir, 'volumes'));
    // The pod's parent cgroup (drivers create their containers below it) and what drivers keep per pod.
    await this.deps.runtime.cleanupPod(this.cgroupParent).catch((err) => this.deps.log.warn('cgroup cleanup failed', { pod: this.key, error: String(err) }));
    this.deps.images?.forget(this.uid);
    this.runtimeCleaned = true;
  }

  /** Graceful termination, then the pod object goes (grace 0 with a uid precondition, as the kubelet). */
  private async terminate(): Promise<void> {
    const grace = this.pod.metadata.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    await this.cleanupRuntime(grace);
    await rm(this.podDir, { recursive: true, force: true }).catch(() => {});
    if (!this.deleted) {
      await this.deps.client.delete(R.pods, this.pod.metadata.namespace, this.pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } })
        .catch((err) => { if (!isNotFound(err)) throw err; });
    }
    this.terminated = true;
    if (this.timer) clearTimeout(this.timer);
    this.volumes.stop();
    this.resolveDone();
  }

  /** For `kubectl logs` / `exec`: the current (or previous) instance of a container. */
  logPath(name: string, previous: boolean): string | undefined {
    const inst = this.instance(name);
    if (!inst || !inst.everStarted) return undefined;
    const n = previous ? inst.restartCount - 1 : inst.restartCount;
    if (n < 0) return undefined;
    return containerLogPath(this.deps.dataDir, this.uid, name, n);
  }
}
