/**
 * The custom resource kinds that every-kind controllers (garbage collector, namespace lifecycle) act
 * on besides the built-in ones: one per Established CRD, addressed in its storage version — as
 * upstream's garbage collector and namespace controller find them by re-reading discovery.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import { isEstablished, storageVersion, type Crd } from '../../apis/custom-resource-definition.ts';

/** The kind a CRD serves, while it is Established and not being deleted; undefined otherwise. */
export function customKindOf(obj: KubeObject): ResourceInfo | undefined {
  const crd = obj as Crd;
  if (!crd.spec?.names || !isEstablished(crd)) return undefined;
  const version = storageVersion(crd)?.name;
  if (!version) return undefined;
  return {
    group: crd.spec.group, version, kind: crd.spec.names.kind, plural: crd.spec.names.plural,
    singular: crd.spec.names.singular ?? crd.spec.names.kind.toLowerCase(), namespaced: crd.spec.scope === 'Namespaced',
  };
}
