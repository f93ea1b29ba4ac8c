/**
 * Downward API values shared by env vars and downwardAPI volumes: pod fields (`fieldRef`, as the
 * kubelet's podFieldSelectorRuntimeValue + fieldpath.ExtractFieldPathAsString) and container
 * resources (`resourceFieldRef`, as resource.ExtractContainerResourceValue, limits defaulting to the
 * node's allocatable).
 */
import type { KubeObject } from '../../apis/object.ts';
import { tryParseQuantity } from '../../apis/quantity.ts';

/** Run-time pod facts the API object may not carry yet. */
export interface PodRuntimeFacts {
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  nodeName: string;
  serviceAccountName?: string;
}

/** Node allocatable used when a container sets no limit (quantities: "4", "8Gi"). */
export type NodeAllocatable = Partial<Record<'cpu' | 'memory' | 'ephemeral-storage', string | number>>;

/** Formats a label/annotation map the way the downward API writes it: sorted `k="v"` lines. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** Resolves a fieldRef path; throws with the kubelet's wording on an unsupported path. */
export function podFieldValue(pod: KubeObject, fieldPath: string, facts: PodRuntimeFacts): string {
  const meta = pod.metadata ?? {};
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return facts.nodeName;
    case 'spec.serviceAccountName':
      return facts.serviceAccountName ?? pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return facts.hostIP ?? '';
    case 'status.hostIPs':
      return facts.hostIP ? facts.hostIP : '';
    case 'status.podIP':
      return facts.podIP ?? facts.podIPs?.[0] ?? '';
    case 'status.podIPs':
      return (facts.podIPs ?? (facts.podIP ? [facts.podIP] : [])).join(',');
  }
  const m = SUBSCRIPT.exec(fieldPath);
  if (m) {
    const map = (m[1] === 'labels' ? meta.labels : meta.annotations) ?? {};
    return map[m[2]] ?? '';
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

/** A resourceFieldRef as written in the spec. */
export interface ResourceFieldRef {
  containerName?: string;
  resource: string;
  divisor?: string | number;
}

/**
 * Resolves a resourceFieldRef against `container` (cpu rounds up to whole divisors, memory and
 * ephemeral-storage too); a missing limit falls back to node allocatable, a missing request to 0.
 */
export function containerResourceValue(ref: ResourceFieldRef, container: Record<string, any>, allocatable: NodeAllocatable = {}): string {
  const [kind, name] = ref.resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name || !['cpu', 'memory', 'ephemeral-storage'].includes(name)) {
    throw new Error(`unsupported container resource: ${ref.resource}`);
  }
  const res = container.resources ?? {};
  let q = tryParseQuantity(res[kind]?.[name]);
  if (q === undefined && kind === 'limits') q = tryParseQuantity(allocatable[name as keyof NodeAllocatable]);
  q ??= 0;
  const divisor = ref.divisor === undefined || ref.divisor === '' ? 1 : tryParseQuantity(ref.divisor);
  if (divisor === undefined || divisor <= 0) throw new Error(`invalid divisor ${String(ref.divisor)} for ${ref.resource}`);
  if (name === 'cpu') {
    // Work in millicores, as the kubelet does, so "100m"/"1m" is exactly 100.
    return String(Math.ceil(Math.round(q * 1000) / Math.round(divisor * 1000)));
  }
  return String(Math.ceil(q / divisor));
}

/** Finds a container (regular or init) by name in a pod spec. */
export function findContainer(pod: KubeObject, name: string): Record<string, any> | undefined {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return all.find((c: any) => c?.name === name);
}
