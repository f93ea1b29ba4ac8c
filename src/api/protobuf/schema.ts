/**
 * The schema the protobuf decoder is driven by: message name → field number → field description,
 * plus the (apiVersion, kind) → message table. The per-group tables (schema-*.ts, one API group or
 * concept each, transcribed from k8s.io/api's generated.proto files) are written in a compact
 * notation (see schema-meta.ts) and parsed here once, at module load. Message names are unique
 * across the tables; the test in coverage.test.ts checks them against Berth's OpenAPI definitions.
 */
import { appsMessages } from './schema-apps.ts';
import { authenticationMessages } from './schema-authentication.ts';
import { autoscalingMessages } from './schema-autoscaling.ts';
import { batchMessages } from './schema-batch.ts';
import { certificatesMessages } from './schema-certificates.ts';
import { coreMessages } from './schema-core.ts';
import { nodeMessages } from './schema-core-node.ts';
import { podMessages } from './schema-core-pod.ts';
import { podStatusMessages } from './schema-core-pod-status.ts';
import { volumeMessages } from './schema-core-volumes.ts';
import { metaMessages } from './schema-meta.ts';
import { networkingMessages } from './schema-networking.ts';
import { policyMessages } from './schema-policy.ts';
import { rbacMessages } from './schema-rbac.ts';
import { authorizationMessages } from './schema-authorization.ts';
import { schedulingMessages } from './schema-scheduling.ts';

/** Scalar field types (protobuf int32/int64 are varints; double is 64-bit). */
export type ScalarType = 'string' | 'int32' | 'int64' | 'bool' | 'bytes' | 'double';

/**
 * Messages converted by special-types.ts instead of a field table: their JSON form is a string,
 * number, list or arbitrary JSON rather than an object.
 */
export const specialMessages = ['Time', 'MicroTime', 'Duration', 'IntOrString', 'Quantity', 'RawExtension', 'FieldsV1', 'ExtraValue'] as const;

/** One of {@link specialMessages}. */
export type SpecialMessage = (typeof specialMessages)[number];

/** How one field of a message is decoded. */
export interface FieldSpec {
  /** JSON (camelCase) field name. */
  name: string;
  /** Wire interpretation; 'message' means `message` names the nested message. */
  type: ScalarType | 'message';
  /** Nested message name when type is 'message'. */
  message?: string;
  /** Repeated field (packed or not); decoded to a JSON array. */
  repeated?: boolean;
  /** Map field: repeated entry messages with key = 1 and value = 2. value is a scalar or message name. */
  map?: { key: ScalarType; value: ScalarType | string };
  /**
   * Keep a zero value (0, '', false) when it is on the wire: the Go field is a pointer or has no
   * omitempty, so Kubernetes' JSON would show it. Other zero scalars are omitted.
   */
  keepZero?: boolean;
  /** Go embedded struct serialized inline: the nested message's fields join the parent object. */
  inline?: boolean;
}

/** Field number → field description. */
export type MessageSchema = ReadonlyMap<number, FieldSpec>;

const scalarTypes = new Set<string>(['string', 'int32', 'int64', 'bool', 'bytes', 'double']);

/**
 * Parses one message's table in the compact notation:
 * `NUMBER name type` entries separated by `;`, where type is a scalar, a message name, `T[]`,
 * `map<K,V>`, optionally prefixed by `^` (inline) and suffixed by `!` (keep zero values).
 */
export function parseMessageTable(messageName: string, table: string): Map<number, FieldSpec> {
  const fields = new Map<number, FieldSpec>();
  for (const raw of table.split(';')) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^(\d+)\s+([A-Za-z][A-Za-z0-9]*)\s+(\^?)([A-Za-z0-9<>,]+?)(\[\])?(!?)$/.exec(entry);
    if (!m) throw new Error(`schema ${messageName}: cannot parse field "${entry}"`);
    const [, num, name, inline, typeText, repeated, keepZero] = m;
    const spec: FieldSpec = { name, type: 'message' };
    const mapMatch = /^map<([a-z0-9]+),([A-Za-z0-9]+)>$/.exec(typeText);
    if (mapMatch) {
      if (!scalarTypes.has(mapMatch[1])) throw new Error(`schema ${messageName}.${name}: map key must be a scalar`);
      spec.map = { key: mapMatch[1] as ScalarType, value: mapMatch[2] };
      spec.type = 'message';
    } else if (scalarTypes.has(typeText)) {
      spec.type = typeText as ScalarType;
    } else {
      spec.message = typeText;
    }
    if (repeated) spec.repeated = true;
    if (keepZero) spec.keepZero = true;
    if (inline) spec.inline = true;
    const n = Number(num);
    if (fields.has(n)) throw new Error(`schema ${messageName}: field number ${n} listed twice`);
    fields.set(n, spec);
  }
  return fields;
}

const registry = new Map<string, MessageSchema>();
const tableSets = [
  metaMessages, coreMessages, podMessages, podStatusMessages, volumeMessages, nodeMessages,
  appsMessages, batchMessages, policyMessages, autoscalingMessages, certificatesMessages,
  rbacMessages, authorizationMessages, authenticationMessages, networkingMessages, schedulingMessages,
];
for (const tables of tableSets) {
  for (const [name, table] of Object.entries(tables)) {
    if (registry.has(name)) throw new Error(`schema: message ${name} defined twice`);
    registry.set(name, parseMessageTable(name, table));
  }
}

/** True when `name` is converted by special-types.ts. */
export function isSpecialMessage(name: string): name is SpecialMessage {
  return (specialMessages as readonly string[]).includes(name);
}

/** The field table of a message, or undefined for an unknown name. */
export function messageSchema(name: string): MessageSchema | undefined {
  return registry.get(name);
}

/** Names of all messages with a field table (for consistency checks). */
export function messageNames(): string[] {
  return [...registry.keys()];
}

/** apiVersion → kind → message name, for the kinds the decoder accepts. */
const kindTable: Record<string, Record<string, string>> = {
  v1: {
    ConfigMap: 'ConfigMap', Secret: 'Secret', Namespace: 'Namespace', ServiceAccount: 'ServiceAccount',
    Service: 'Service', Pod: 'Pod', Binding: 'Binding', Node: 'Node', PodTemplate: 'PodTemplate',
    PersistentVolumeClaim: 'PersistentVolumeClaim', ReplicationController: 'ReplicationController',
  },
  'networking.k8s.io/v1': { Ingress: 'Ingress', IngressClass: 'IngressClass' },
  'apps/v1': { Deployment: 'Deployment', ReplicaSet: 'ReplicaSet', DaemonSet: 'DaemonSet', StatefulSet: 'StatefulSet' },
  'batch/v1': { Job: 'Job', CronJob: 'CronJob' },
  'policy/v1': { Eviction: 'Eviction', PodDisruptionBudget: 'PodDisruptionBudget' },
  'policy/v1beta1': { Eviction: 'Eviction' },
  'autoscaling/v1': { Scale: 'Scale', HorizontalPodAutoscaler: 'HorizontalPodAutoscaler' },
  'certificates.k8s.io/v1': { CertificateSigningRequest: 'CertificateSigningRequest' },
  'rbac.authorization.k8s.io/v1': { Role: 'Role', ClusterRole: 'ClusterRole', RoleBinding: 'RoleBinding', ClusterRoleBinding: 'ClusterRoleBinding' },
  'authorization.k8s.io/v1': { SelfSubjectAccessReview: 'SelfSubjectAccessReview', SelfSubjectRulesReview: 'SelfSubjectRulesReview' },
  'authentication.k8s.io/v1': { TokenRequest: 'TokenRequest', TokenReview: 'TokenReview', SelfSubjectReview: 'SelfSubjectReview' },
  'scheduling.k8s.io/v1': { PriorityClass: 'PriorityClass' },
};

/**
 * The message for a (apiVersion, kind) pair, or undefined when unsupported. DeleteOptions is
 * accepted under any apiVersion: clients encode it in the group version they are talking to.
 */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  if (kind === 'DeleteOptions') return 'DeleteOptions';
  return kindTable[apiVersion]?.[kind];
}

/** Every (apiVersion, kind) the decoder accepts with its message; DeleteOptions listed once, as v1. */
export function decodedKinds(): { apiVersion: string; kind: string; message: string }[] {
  const out = [{ apiVersion: 'v1', kind: 'DeleteOptions', message: 'DeleteOptions' }];
  for (const [apiVersion, kinds] of Object.entries(kindTable)) {
    for (const [kind, message] of Object.entries(kinds)) out.push({ apiVersion, kind, message });
  }
  return out;
}
