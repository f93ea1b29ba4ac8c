/**
 * Serves custom resources while the server runs: watches CustomResourceDefinitions and, for each
 * Established one, registers its versions with the Registry (storage version first) — the same
 * generic store, handlers, discovery and OpenAPI as built-in kinds — and stops serving them when the
 * CRD goes. No restart: discovery and OpenAPI rebuild on the Registry's change. While a CRD is being
 * deleted its objects are still served (the cleanup deletes them) but new ones are refused.
 * Upstream: apiextensions-apiserver pkg/apiserver/customresource_handler.go (crdHandler, its storage
 * map rebuilt on CRD changes).
 */
import type { KubeObject } from '../../apis/object.ts';
import { CRD_GROUP, CRD_PLURAL, isEstablished, type Crd, type JSONSchemaProps } from '../../apis/custom-resource-definition.ts';
import { errors } from '../../errors/index.ts';
import { createLogger, type Logger } from '../../util/log.ts';
import type { Registry } from '../registry.ts';
import { watchResource, type WatchHandle } from '../store-watch.ts';
import { customResourceTypes, readAs, type CustomResourceType } from './custom-resource-type.ts';

export interface CustomResourceServing {
  /** Resolves once every CRD present at start is served. */
  ready: Promise<void>;
  stop(): void;
}

/** What is served for one CRD: its resource and the CRD content it was built from. */
interface Served { group: string; plural: string; signature: string }

export function serveCustomResources(registry: Registry, log: Logger = createLogger({}, { component: 'crd-serving' })): CustomResourceServing {
  const crdStore = registry.store(CRD_GROUP, CRD_PLURAL);
  if (!crdStore) throw new Error('the Registry does not serve customresourcedefinitions');
  const served = new Map<string, Served>();
  let handle: WatchHandle | undefined;
  let stopped = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => { markReady = resolve; });

  const apply = (crd: Crd, deleted: boolean) => {
    const name = crd.metadata.name!;
    const current = served.get(name);
    const terminating = !!crd.metadata.deletionTimestamp;
    const serve = !deleted && isEstablished(crd);
    if (!serve) {
      if (current) {
        registry.unserve(current.group, current.plural);
        served.delete(name);
        log.info('custom resource no longer served', { crd: name });
      }
      return;
    }
    const signature = JSON.stringify([crd.spec, terminating]);
    if (current?.signature === signature) return;
    if (current && (current.group !== crd.spec.group || current.plural !== crd.spec.names.plural)) registry.unserve(current.group, current.plural);
    const types = customResourceTypes(crd);
    if (!types.length) return;
    registry.serve(types, (store) => {
      const type = store.type as CustomResourceType;
      store.readTransform = readAs(type);
      store.storageApiVersion = `${crd.spec.group}/${types[0].info.version}`;
      if (terminating) {
        store.hooks = { beforeCreate: async () => { throw errors.methodNotAllowed(`create not allowed while custom resource definition is terminating`); } };
      }
    });
    served.set(name, { group: crd.spec.group, plural: crd.spec.names.plural, signature });
    log.info('custom resource served', { crd: name, versions: types.map((t) => t.info.version) });
  };

  const start = async () => {
    if (stopped) return;
    try {
      let listed = false;
      const seen = new Set<string>();
      handle = await watchResource(crdStore, undefined, {}, (ev) => {
        if (ev.type === 'ERROR' || ev.type === 'BOOKMARK') return;
        const crd = ev.object as KubeObject as Crd;
        if (!listed) seen.add(crd.metadata.name!);
        try { apply(crd, ev.type === 'DELETED'); } catch (err) { log.error('serving a custom resource failed', { crd: crd.metadata.name, error: (err as Error).message }); }
      }, () => { handle = undefined; if (!stopped) setTimeout(() => void start(), 1000); });
      listed = true;
      // A CRD deleted while the watch was down: stop serving it.
      for (const [name, s] of served) if (!seen.has(name) && !(await crdStore.get(undefined, name).catch(() => undefined))) { registry.unserve(s.group, s.plural); served.delete(name); }
      markReady();
    } catch (err) {
      log.error('watching CustomResourceDefinitions failed; retrying', { error: (err as Error).message });
      if (!stopped) setTimeout(() => void start(), 1000);
    }
  };
  void start();
  return { ready, stop() { stopped = true; handle?.close(); } };
}

/**
 * The structural schema of a served custom resource version (`apiVersion` group/version and kind),
 * or undefined when that is not a custom resource served here — for server-side apply's list and
 * map merge semantics (x-kubernetes-list-type, list-map-keys, map-type).
 */
export function customResourceSchema(registry: Registry, apiVersion: string, kind: string): JSONSchemaProps | undefined {
  const type = registry.storeForKind(apiVersion, kind)?.type as Partial<CustomResourceType> | undefined;
  return type?.schema;
}
