/**
 * The runtime driver interface, in the manner of Nomad's drivers (plugins/drivers/driver.go): a
 * small set of verbs on one container (start, wait, stop, destroy, recover, exec, …) and a
 * capabilities descriptor that says what the driver supports. Each driver lives in a folder of its
 * own and registers in drivers.ts; one shared harness (`driver.case.ts`) tests every driver.
 *
 * The pod worker (src/agent/worker) owns the pod: its network namespace, volumes and the order of
 * containers. A driver only runs one container at a time inside what the worker prepared.
 */
import type { Readable, Writable } from 'node:stream';

export interface DriverCapabilities {
  /** Needs an OCI image (runc) or runs host binaries (process). */
  images: boolean;
  exec: boolean;
  tty: boolean;
  /** Can tell an OOM kill from other SIGKILLs. */
  oomDetection: boolean;
  /** Keeps containers running across an agent restart and re-adopts them. */
  recover: boolean;
  /** cgroup layout the driver manages: v1, v2, or hybrid (v1 controllers + v2 unified mount). */
  cgroups: 'v1' | 'v2' | 'hybrid';
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

export interface ResourceLimits {
  /** CPU limit in millicores (cfs quota); undefined = unlimited. */
  cpuLimitMillis?: number;
  /** CPU request in millicores (cpu shares / weight). */
  cpuRequestMillis?: number;
  memoryLimitBytes?: number;
  pidsLimit?: number;
}

export interface ContainerSpec {
  /** Unique and stable per container instance: `<pod-uid>_<container-name>_<attempt>`. */
  id: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  containerName: string;
  /** Image reference (runc); ignored by the process driver (convention: `image: host`). */
  image?: string;
  /** argv: the container's command + args, already resolved against the image's entrypoint. */
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  mounts: Mount[];
  user?: { uid: number; gid: number; groups?: number[] };
  resources: ResourceLimits;
  /** Path of the pod's network namespace (e.g. /var/run/netns/berth-…); undefined = host network. */
  netnsPath?: string;
  /**
   * Settles when the pod's network is up (its CNI ADD done): the container's process must not run
   * before it resolves, and start() fails with its error when it rejects. A driver may create the
   * container meanwhile (runc create) or simply wait, so it may await the gate only after it has
   * rejected: its producer marks it handled (`.catch`), lest Node report an unhandled rejection.
   * Absent: the network is up already.
   */
  startGate?: Promise<unknown>;
  hostname: string;
  /** File the container's stdout and stderr are appended to (the agent's log format). */
  logPath: string;
  /** Rotate `logPath` once it reaches this many bytes (default 10 MiB, the kubelet's containerLogMaxSize). */
  logMaxBytes?: number;
  /** Log files kept in all, the current one included (default 5, the kubelet's containerLogMaxFiles). */
  logMaxFiles?: number;
  tty?: boolean;
  stdin?: boolean;
  /** With stdin (no TTY): the end of the first attach's stdin is an EOF for the command (see releaseStdin). */
  stdinOnce?: boolean;
  /** Parent cgroup for the pod (the driver creates the container's cgroup below it). */
  cgroupParent: string;
  /**
   * Self-fencing (stateful pods): the shim does not start the container, or kills it, once the
   * agent's heartbeat file is older than `afterMs` (native/shim/fence.c).
   */
  fence?: { heartbeatFile: string; afterMs: number };
  /** securityContext.privileged (runc): every capability, all devices, no masked paths, rw /sys. */
  privileged?: boolean;
  /** securityContext.readOnlyRootFilesystem (runc): the image root is mounted read-only. */
  readOnlyRootFilesystem?: boolean;
  /** securityContext.capabilities (runc): names with or without `CAP_`, `ALL` allowed. */
  capabilities?: { add?: string[]; drop?: string[] };
  /** securityContext.allowPrivilegeEscalation (runc): false sets no_new_privs. */
  allowPrivilegeEscalation?: boolean;
}

export interface ContainerHandle {
  id: string;
  pid: number;
  startedAt: Date;
}

export interface ExitResult {
  exitCode: number;
  /** Set when the process died by a signal (exitCode is then 128 + signal number). */
  signal?: string;
  oomKilled: boolean;
  finishedAt: Date;
}

export interface ExecOptions {
  argv: string[];
  tty: boolean;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Terminal size changes (tty only). */
  onResize?: (listener: (size: { width: number; height: number }) => void) => void;
}

export interface RuntimeDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** Starts the container; resolves once its process exists (not when it is "ready"). */
  start(spec: ContainerSpec): Promise<ContainerHandle>;
  /** Resolves when the container's main process exits (also for recovered containers). */
  wait(id: string): Promise<ExitResult>;
  /** SIGTERM (or `signal`), then SIGKILL after `timeoutMs`; resolves when the process is gone. */
  stop(id: string, timeoutMs: number, signal?: NodeJS.Signals): Promise<void>;
  /** Removes every trace of the container: cgroup, mounts, state. Safe to call twice. */
  destroy(id: string): Promise<void>;
  /** Re-adopts a container started by an earlier agent process; undefined if it is gone. */
  recover(id: string): Promise<ContainerHandle | undefined>;
  /** Containers this driver has state for (running or not yet destroyed). */
  list(): Promise<string[]>;
  /** Runs a command in the container's namespaces and cgroup; resolves to its exit code. */
  exec(id: string, opts: ExecOptions): Promise<number>;
  /**
   * The FIFO that is the container's stdin when it was started with `spec.stdin` (undefined
   * otherwise): `kubectl attach -i` writes into it. Held open read-write by the container side, so
   * a writer closing it is not an EOF for the command.
   */
  stdinPath?(id: string): string | undefined;
  /**
   * stdinOnce: the attach that just opened stdinPath for writing takes over — the driver drops its
   * own hold on the FIFO, so that this writer closing it is the command's EOF.
   */
  releaseStdin?(id: string): void;
  /** A container started with `spec.tty`: sets its terminal's size (`kubectl attach -t` resizes). Best effort. */
  resize?(id: string, size: { width: number; height: number }): void;
  /**
   * The pod is gone from this node and every container of it destroyed: removes what the driver
   * keeps per pod rather than per container (runc: the pod's cgroup path in the hierarchies Berth
   * does not manage). The pod's own cgroup below `cgroupParent` is the node runtime's to remove.
   */
  cleanupPod?(cgroupParent: string): Promise<void>;
}
