/**
 * The HPA's way to a target's scale subresource (client-go's scale.ScalesGetter with its RESTMapper
 * and scale-kind resolver): `scaleTargetRef`'s apiVersion and kind resolve to a served resource with
 * a `scale` subresource — built-in or a custom resource's, resolved at each call so a CRD created
 * after start is found — and its autoscaling/v1 Scale is read and written through the kind's scale
 * mapping, exactly what GET/PUT `<resource>/scale` does (api/handlers/subresources.ts).
 *
 * The Client has no scale subresource yet, so this goes to the registry in-process (as the namespace
 * controller's finalize does), authorized as `get`/`update` of `<resource>/scale` for the controller's
 * identity, the rule its role grants.
 */
import type { KubeObject } from '../../apis/object.ts';
import { setScaleReplicas, toScale } from '../../api/handlers/subresources.ts';
import type { Attributes } from '../../auth/attributes.ts';
import { forbidden } from '../../auth/forbidden.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { LocalClient } from '../../client/local-client.ts';
import { errors } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';

export interface ScaleClient {
  /** The resource of `kind` in `apiVersion`'s group that has a scale subresource; undefined if none is served. */
  resolve(apiVersion: string, kind: string): ResourceRef | undefined;
  /** GET `<resource>/scale`: an autoscaling/v1 Scale (spec.replicas, status.replicas, status.selector). */
  get(ref: ResourceRef, namespace: string, name: string): Promise<KubeObject>;
  /** PUT `<resource>/scale`: the Scale's resourceVersion, when set, must still be the object's (409 otherwise). */
  update(ref: ResourceRef, namespace: string, scale: KubeObject): Promise<KubeObject>;
}

/** A {@link ScaleClient} on a registry in the same process; `client`'s identity (a LocalClient's) is authorized. */
export function registryScales(registry: Registry, client?: Client): ScaleClient {
  const identity = client instanceof LocalClient ? client.identity : undefined;
  const authorize = async (verb: string, ref: ResourceRef, namespace: string, name: string) => {
    if (!identity) return;
    const prefix = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
    const a: Attributes = {
      user: identity.user, verb, isResourceRequest: true, path: `${prefix}/namespaces/${namespace}/${ref.resource}/${name}/scale`,
      apiGroup: ref.group, apiVersion: ref.version, resource: ref.resource, subresource: 'scale', namespace, name,
    };
    if (await identity.authorizer.authorize(a) !== 'allow') throw forbidden(a);
  };
  const storeOf = (ref: ResourceRef) => {
    const s = registry.store(ref.group, ref.resource, ref.version);
    if (!s || !(s.type.info.subresources ?? []).includes('scale')) throw errors.notFound(ref.group, `${ref.resource}/scale`, '');
    return s;
  };
  return {
    resolve(apiVersion, kind) {
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
      const hasScale = (s: { type: { info: { subresources?: readonly string[] } } } | undefined) => !!s && (s.type.info.subresources ?? []).includes('scale');
      // The named version first; else any served version of the group's kind (upstream maps the group/kind).
      let s = registry.storeForKind(apiVersion, kind);
      if (!hasScale(s)) s = registry.served().find((x) => x.group === group && x.type.info.kind === kind && hasScale(x));
      return s && hasScale(s) ? { group: s.group, version: s.type.info.version, resource: s.plural } : undefined;
    },
    async get(ref, namespace, name) {
      const store = storeOf(ref);
      await authorize('get', ref, namespace, name);
      return toScale(await store.get(namespace, name), store.type.strategy.scale);
    },
    async update(ref, namespace, scale) {
      const store = storeOf(ref);
      const name = scale.metadata?.name;
      if (!name) throw errors.badRequest('the Scale to update has no name');
      await authorize('update', ref, namespace, name);
      const rv = scale.metadata?.resourceVersion;
      const updated = await store.guaranteedUpdate(namespace, name, (current) => {
        setScaleReplicas(current, scale.spec?.replicas ?? 0, store.type.strategy.scale);
        if (rv) current.metadata.resourceVersion = rv;
        return current;
      }, { user: identity?.user, managerSubresource: 'scale' });
      return toScale(updated, store.type.strategy.scale);
    },
  };
}
