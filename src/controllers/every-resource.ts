/**
 * The resources that controllers over every kind (garbage collector, namespace lifecycle) watch: all
 * served resources but Events, as Kubernetes' garbage collector ignores them by default
 * (GCIgnoredResources: core and events.k8s.io Events) — they are many, short-lived and nobody's owner,
 * and a cache of them would cost more than the rest together. The namespace controller still deletes
 * a namespace's Events: it lists every namespaced resource from the API.
 */
import type { ResourceInfo } from '../apis/resources.ts';
import type { ResourceRef } from '../client/client.ts';

/** `group|plural` of the resources left out of {@link everyResource}. */
const IGNORED = new Set(['|events', 'events.k8s.io|events']);

/** The ResourceRef of a served resource. */
export function refOf(info: ResourceInfo): ResourceRef {
  return { group: info.group, version: info.version, resource: info.plural };
}

/**
 * Served resources worth an informer for every-kind controllers; see the file comment. Resources
 * that cannot be listed (the create-only reviews) hold nothing to collect.
 */
export function everyResource(resources: readonly ResourceInfo[]): ResourceInfo[] {
  return resources.filter((r) => !IGNORED.has(`${r.group}|${r.plural}`) && (!r.verbs || r.verbs.includes('list')));
}
