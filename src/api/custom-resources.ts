/**
 * The custom resources the Registry serves at this moment, as discovery lists them: after the
 * built-in kinds, each group's versions in Kubernetes' version priority (GA before beta before
 * alpha, higher numbers first), so the preferred version is the one kubectl should use.
 * Upstream: apiextensions-apiserver's DiscoveryController and version.CompareKubeAwareVersionStrings.
 */
import type { ResourceInfo } from '../apis/resources.ts';
import type { Registry } from '../registry/registry.ts';

/** >0 when `a` is preferred over `b` (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else). */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0] as const;
    return [m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3, Number(m[1]), Number(m[3] ?? 0)] as const;
  };
  const [x, y] = [parse(a), parse(b)];
  if (x[0] && y[0]) {
    if (x[0] === 3 && y[0] === 3) return x[1] - y[1];
    if (x[0] !== y[0] && (x[0] === 3 || y[0] === 3)) return x[0] - y[0];
    return x[1] !== y[1] ? x[1] - y[1] : x[0] !== y[0] ? x[0] - y[0] : x[2] - y[2];
  }
  if (x[0] !== y[0]) return x[0] ? 1 : -1;
  return b.localeCompare(a);
}

/** Served custom resource versions (stores whose type came from a CRD), each group's preferred version first. */
export function customResourceInfos(registry: Registry | undefined): ResourceInfo[] {
  if (!registry) return [];
  const infos = registry.served().filter((s) => 'crd' in s.type).map((s) => s.type.info);
  return infos.sort((a, b) => (a.group === b.group ? compareKubeVersions(b.version, a.version) || a.plural.localeCompare(b.plural) : a.group.localeCompare(b.group)));
}
