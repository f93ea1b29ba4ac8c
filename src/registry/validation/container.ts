/**
 * One container of a pod spec, as validateContainers / validateInitContainers in
 * pkg/apis/core/validation: name, image, ports, env, volume mounts, probes, lifecycle, resources,
 * pull and termination-message policies.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isObject } from '../../apis/object.ts';
import { isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isValidPortName, isValidPortNum } from '../../apis/names.ts';
import { validateResourceRequirements } from './resources.ts';
import { nonNegative } from './fields.ts';

type Rec = Record<string, any>;

/** Context shared by all containers of one pod spec. */
export interface ContainerContext {
  /** Names of the pod's volumes (volumeMounts must refer to one). */
  volumes: Set<string>;
  /** Container names seen so far across init and regular containers (names are unique pod-wide). */
  names: Set<string>;
  hostNetwork: boolean;
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'] as const;

/** ValidatePortNumOrName: a number in 1..65535 or an IANA service name. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => fieldError.invalid(path, port, m));
  if (typeof port === 'string') {
    // Numeric strings are how YAML sometimes delivers numbers; IntOrString would decode them as names.
    return isValidPortName(port).map((m) => fieldError.invalid(path, port, m));
  }
  return [fieldError.required(path, '')];
}

function validateHandler(h: Rec, kinds: readonly string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const kind of kinds) {
    const a = h[kind];
    if (a === undefined || a === null) continue;
    if (count++ > 0) {
      errs.push(fieldError.forbidden(`${path}.${kind}`, 'may not specify more than 1 handler type'));
      continue;
    }
    const p = `${path}.${kind}`;
    if (!isObject(a)) {
      errs.push(fieldError.typeInvalid(p, a, 'must be an object'));
      continue;
    }
    if (kind === 'exec' && (!Array.isArray(a.command) || a.command.length === 0)) errs.push(fieldError.required(`${p}.command`, ''));
    if (kind === 'httpGet') {
      if (!a.path) errs.push(fieldError.required(`${p}.path`, ''));
      errs.push(...validatePortNumOrName(a.port, `${p}.port`));
      if (!['HTTP', 'HTTPS'].includes(a.scheme)) errs.push(fieldError.notSupported(`${p}.scheme`, a.scheme ?? '', ['HTTP', 'HTTPS']));
    }
    if (kind === 'tcpSocket') errs.push(...validatePortNumOrName(a.port, `${p}.port`));
    if (kind === 'grpc') errs.push(...isValidPortNum(a.port).map((m) => fieldError.invalid(`${p}.port`, a.port, m)));
    if (kind === 'sleep') errs.push(...nonNegative(a.seconds, `${p}.seconds`));
  }
  if (count === 0) errs.push(fieldError.required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(probe: unknown, path: string, mustSucceedOnce: boolean): FieldError[] {
  if (probe === undefined || probe === null) return [];
  if (!isObject(probe)) return [fieldError.typeInvalid(path, probe, 'must be an object')];
  const errs = validateHandler(probe, HANDLERS, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...nonNegative(probe[f], `${path}.${f}`));
  }
  if (typeof probe.terminationGracePeriodSeconds === 'number' && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(fieldError.invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  // Liveness and startup probes stop at the first success; a higher threshold is meaningless.
  if (mustSucceedOnce && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errs.push(fieldError.invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  }
  return errs;
}

function validatePorts(ports: unknown, path: string, hostNetwork: boolean): FieldError[] {
  if (ports === undefined || ports === null) return [];
  if (!Array.isArray(ports)) return [fieldError.typeInvalid(path, ports, 'must be a list')];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port: Rec, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(port)) return void errs.push(fieldError.typeInvalid(p, port, 'must be an object'));
    if (typeof port.name === 'string' && port.name !== '') {
      const msgs = isValidPortName(port.name);
      if (msgs.length) for (const m of msgs) errs.push(fieldError.invalid(`${p}.name`, port.name, m));
      else if (names.has(port.name)) errs.push(fieldError.duplicate(`${p}.name`, port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(fieldError.required(`${p}.containerPort`, ''));
    else for (const m of isValidPortNum(port.containerPort)) errs.push(fieldError.invalid(`${p}.containerPort`, port.containerPort, m));
    if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(fieldError.invalid(`${p}.hostPort`, port.hostPort, m));
    if (!port.protocol) errs.push(fieldError.required(`${p}.protocol`, ''));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(fieldError.notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
    if (hostNetwork && port.hostPort && port.containerPort && port.hostPort !== port.containerPort) {
      errs.push(fieldError.invalid(`${p}.containerPort`, port.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
    }
  });
  return errs;
}

function validateKeyRef(ref: Rec, path: string): FieldError[] {
  const name = typeof ref.name === 'string' ? ref.name : '';
  const errs = isDNS1123Subdomain(name).map((m) => fieldError.invalid(`${path}.name`, name, m));
  if (!ref.key) errs.push(fieldError.required(`${path}.key`, ''));
  return errs;
}

function validateEnv(env: unknown, path: string): FieldError[] {
  if (env === undefined || env === null) return [];
  if (!Array.isArray(env)) return [fieldError.typeInvalid(path, env, 'must be a list')];
  const errs: FieldError[] = [];
  env.forEach((ev: Rec, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(ev)) return void errs.push(fieldError.typeInvalid(p, ev, 'must be an object'));
    if (typeof ev.name !== 'string' || ev.name === '') errs.push(fieldError.required(`${p}.name`, ''));
    else for (const m of isEnvVarName(ev.name)) errs.push(fieldError.invalid(`${p}.name`, ev.name, m));
    if (ev.valueFrom === undefined || ev.valueFrom === null) return;
    const vf = ev.valueFrom;
    const vp = `${p}.valueFrom`;
    let sources = 0;
    if (isObject(vf.fieldRef)) {
      sources++;
      if (!vf.fieldRef.fieldPath) errs.push(fieldError.required(`${vp}.fieldRef.fieldPath`, ''));
    }
    if (isObject(vf.resourceFieldRef)) {
      sources++;
      if (!vf.resourceFieldRef.resource) errs.push(fieldError.required(`${vp}.resourceFieldRef.resource`, ''));
    }
    if (isObject(vf.configMapKeyRef)) {
      sources++;
      errs.push(...validateKeyRef(vf.configMapKeyRef, `${vp}.configMapKeyRef`));
    }
    if (isObject(vf.secretKeyRef)) {
      sources++;
      errs.push(...validateKeyRef(vf.secretKeyRef, `${vp}.secretKeyRef`));
    }
    if (sources === 0) errs.push(fieldError.invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (typeof ev.value === 'string' && ev.value !== '') errs.push(fieldError.invalid(vp, '', 'may not be specified when `value` is not empty'));
    else if (sources > 1) errs.push(fieldError.invalid(vp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, path: string, volumes: Set<string>): FieldError[] {
  if (mounts === undefined || mounts === null) return [];
  if (!Array.isArray(mounts)) return [fieldError.typeInvalid(path, mounts, 'must be a list')];
  const errs: FieldError[] = [];
  const points = new Set<string>();
  mounts.forEach((m: Rec, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(m)) return void errs.push(fieldError.typeInvalid(p, m, 'must be an object'));
    if (!m.name) errs.push(fieldError.required(`${p}.name`, ''));
    if (!volumes.has(m.name)) errs.push(fieldError.notFound(`${p}.name`, m.name ?? ''));
    if (!m.mountPath) errs.push(fieldError.required(`${p}.mountPath`, ''));
    else {
      if (points.has(m.mountPath)) errs.push(fieldError.invalid(`${p}.mountPath`, m.mountPath, 'must be unique'));
      points.add(m.mountPath);
    }
    if (typeof m.subPath === 'string' && m.subPath !== '') {
      if (m.subPath.startsWith('/')) errs.push(fieldError.invalid(`${path}.subPath`, m.subPath, 'must be a relative path'));
      if (m.subPath.split('/').includes('..')) errs.push(fieldError.invalid(`${path}.subPath`, m.subPath, "must not contain '..'"));
    }
    if (m.subPath && m.subPathExpr) errs.push(fieldError.invalid(`${p}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
  });
  return errs;
}

/**
 * Validates `containers` (or `initContainers`) at `path`. `init` selects the init-container rules
 * (restartPolicy only `Always` for sidecars; no probes or lifecycle on plain init containers).
 * Returns `Required` for an empty regular container list.
 */
export function validateContainers(list: unknown, path: string, ctx: ContainerContext, init: boolean): FieldError[] {
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    return init ? [] : [fieldError.required(path, '')];
  }
  if (!Array.isArray(list)) return [fieldError.typeInvalid(path, list, 'must be a list')];
  const errs: FieldError[] = [];
  list.forEach((c: Rec, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(c)) return void errs.push(fieldError.typeInvalid(p, c, 'must be an object'));
    if (typeof c.name !== 'string' || c.name === '') errs.push(fieldError.required(`${p}.name`, ''));
    else {
      for (const m of isDNS1123Label(c.name)) errs.push(fieldError.invalid(`${p}.name`, c.name, m));
      if (ctx.names.has(c.name)) errs.push(fieldError.duplicate(`${p}.name`, c.name));
      ctx.names.add(c.name);
    }
    if (typeof c.image !== 'string' || c.image === '') errs.push(fieldError.required(`${p}.image`, ''));
    const sidecar = init && c.restartPolicy === 'Always';
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
      if (!init) errs.push(fieldError.forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
      else if (c.restartPolicy !== 'Always') errs.push(fieldError.notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
    }
    if (init && !sidecar) {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c[f] !== undefined && c[f] !== null) errs.push(fieldError.forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
      }
    } else {
      errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, true));
      errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, false));
      errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, true));
      if (isObject(c.lifecycle)) {
        for (const hook of ['postStart', 'preStop']) {
          if (isObject(c.lifecycle[hook])) errs.push(...validateHandler(c.lifecycle[hook], LIFECYCLE_HANDLERS, `${p}.lifecycle.${hook}`));
        }
      }
    }
    errs.push(...validatePorts(c.ports, `${p}.ports`, ctx.hostNetwork));
    errs.push(...validateEnv(c.env, `${p}.env`));
    errs.push(...validateVolumeMounts(c.volumeMounts, `${p}.volumeMounts`, ctx.volumes));
    errs.push(...validateResourceRequirements(c.resources, `${p}.resources`));
    if (!c.imagePullPolicy) errs.push(fieldError.required(`${p}.imagePullPolicy`, ''));
    else if (!PULL_POLICIES.includes(c.imagePullPolicy)) errs.push(fieldError.notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
    const tmp = c.terminationMessagePolicy;
    if (!tmp) errs.push(fieldError.required(`${p}.terminationMessagePolicy`, "must be 'File' or 'FallbackToLogsOnError'"));
    else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(fieldError.invalid(`${p}.terminationMessagePolicy`, tmp, "must be 'File' or 'FallbackToLogsOnError'"));
  });
  return errs;
}
