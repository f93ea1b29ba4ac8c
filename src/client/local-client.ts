/**
 * The in-process Client: straight onto the Registry's resource stores, no HTTP and no JSON round trip
 * beyond the store's own encoding. Errors are the API's `ApiError`s. Objects passed in are copied
 * before the store touches them, so callers keep theirs unchanged, as over HTTP.
 *
 * With an identity, a client is that user in-process exactly as over HTTP: every call is authorized
 * by the API server's authorizer first (403 as the API words it) and writes carry the user to
 * admission. Without one it is the API server itself (SYSTEM_USER), for Berth's own bootstrap work.
 */
import { clone, type KubeObject } from '../apis/object.ts';
import { ApiError, errors } from '../errors/index.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceStore } from '../registry/resource-store.ts';
import { makeFilter } from '../registry/object-filter.ts';
import { listJson } from '../registry/list-reader.ts';
import { deleteObject, type DeleteOptions } from '../registry/store-delete.ts';
import { watchResource, type WatchHandle } from '../registry/store-watch.ts';
import type { Client, ClientWatch, ClientWatchEvent, ListOptions, ObjectList, PatchType, ResourceRef, UpdateSubresource, WatchOptions } from './client.ts';
import { bindPod, checkTypeMeta, evictPod } from '../registry/pod-subresources.ts';
import { patchObject } from '../registry/patch-object.ts';
import { PATCH_CONTENT_TYPES } from './patch-types.ts';
import type { Attributes, Authorizer, UserInfo } from '../auth/attributes.ts';
import { forbidden } from '../auth/forbidden.ts';
import { resourcePath } from './resource-path.ts';
import { watchEnd } from './watch-end.ts';
import type { JsonList, JsonLister } from './port-protocol.ts';

/** The delete options a Client accepts. */
export type ClientDeleteOptions = Parameters<Client['delete']>[3];

const POLICIES = ['Orphan', 'Background', 'Foreground'];

/** Who an in-process client acts as, and the authorizer that decides for it. */
export interface LocalIdentity {
  user: UserInfo;
  authorizer: Authorizer;
}

/** A Client over a Registry in the same process. */
export class LocalClient implements Client, JsonLister {
  constructor(readonly registry: Registry, readonly identity?: LocalIdentity) {}

  /** The same registry as another user. */
  as(identity: LocalIdentity): LocalClient {
    return new LocalClient(this.registry, identity);
  }

  /** Refuses what the identity's authorizer does not allow; a client without identity is the API server. */
  private async authorize(verb: string, ref: ResourceRef, namespace: string | undefined, name = '', subresource = '', fieldSelector?: string): Promise<void> {
    if (!this.identity) return;
    const a: Attributes = {
      user: this.identity.user, verb, isResourceRequest: true, path: resourcePath(ref, namespace, name || undefined, subresource || undefined),
      apiGroup: ref.group, apiVersion: ref.version, resource: ref.resource, subresource, namespace: namespace ?? '', name, fieldSelector,
    };
    if (await this.identity.authorizer.authorize(a) !== 'allow') throw forbidden(a);
  }

  private get user(): UserInfo | undefined {
    return this.identity?.user;
  }

  /** The store serving `ref`; a 404 like the API's for an unknown resource or version. */
  private store(ref: ResourceRef): ResourceStore {
    const s = this.registry.store(ref.group, ref.resource);
    if (!s || s.type.info.version !== ref.version) {
      throw new ApiError('BERTH_NOT_FOUND', 'the server could not find the requested resource', { group: ref.group || undefined, kind: ref.resource });
    }
    return s;
  }

  async get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject> {
    const store = this.store(ref);
    await this.authorize('get', ref, namespace, name);
    return store.get(namespace, name);
  }

  async list(ref: ResourceRef, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList> {
    const store = this.store(ref);
    await this.authorize('list', ref, namespace, '', '', opts.fieldSelector);
    const filter = makeFilter(store.type, opts.labelSelector, opts.fieldSelector);
    const res = await store.list(namespace, { filter, limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion });
    return { items: res.items, resourceVersion: res.resourceVersion, ...(res.continue ? { continue: res.continue } : {}) };
  }

  /**
   * The same list with its items as one JSON array text, for a reader in another thread
   * (port-server.ts): the stored bytes with the resourceVersion spliced in (list-reader.ts listJson,
   * what the HTTP list sends), so this thread does not decode the objects nor clone them across.
   */
  async listJson(ref: ResourceRef, namespace: string | undefined, opts: ListOptions = {}): Promise<JsonList> {
    const store = this.store(ref);
    await this.authorize('list', ref, namespace, '', '', opts.fieldSelector);
    const filter = makeFilter(store.type, opts.labelSelector, opts.fieldSelector);
    const res = await listJson(store, namespace, { filter, limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion });
    return { itemsJson: `[${res.items.join(',')}]`, resourceVersion: res.resourceVersion, ...(res.continue ? { continue: res.continue } : {}) };
  }

  /**
   * Starts a watch. A start point the store refuses (too old, too new) is delivered as an ERROR event
   * followed by the end of the watch, as over HTTP; bad selectors reject.
   */
  async watch(ref: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: ClientWatchEvent) => void): Promise<ClientWatch> {
    const store = this.store(ref);
    await this.authorize('watch', ref, namespace, '', '', opts.fieldSelector);
    const filter = makeFilter(store.type, opts.labelSelector, opts.fieldSelector);
    let handle: WatchHandle | undefined;
    const end = watchEnd(() => handle?.close());
    const finish = end.finish;
    const deliver = (ev: ClientWatchEvent) => {
      if (end.finished) return;
      try {
        onEvent(ev);
      } catch {
        // A throwing handler must not break the store's watch fan-out.
      }
    };
    try {
      handle = await watchResource(store, namespace, {
        filter, resourceVersion: opts.resourceVersion, allowBookmarks: opts.allowBookmarks,
      }, (ev) => deliver(ev as ClientWatchEvent), finish);
      if (end.finished) handle.close();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      deliver({ type: 'ERROR', object: err.toStatus() as unknown as KubeObject });
      finish();
    }
    return { close: finish, done: end.done };
  }

  async create(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject> {
    const store = this.store(ref);
    const body = clone(obj);
    if (subresource) {
      const name = obj.metadata?.name;
      if (!name) throw errors.badRequest(`a name is required to create ${ref.resource}/${subresource}`);
      if (!(store.type.info.subresources ?? []).includes(subresource as never)) throw errors.notFound(store.group, `${store.plural}/${subresource}`, name);
      await this.authorize('create', ref, namespace, name, subresource);
      if (store.plural === 'pods' && store.group === '' && subresource === 'binding') return bindPod(store, namespace, name, body, { user: this.user });
      if (store.plural === 'pods' && store.group === '' && subresource === 'eviction') return evictPod(store, namespace, name, body, { user: this.user }, this.registry.store('policy', 'poddisruptionbudgets'));
      const computed = store.createSubresources[subresource];
      if (computed) {
        checkTypeMeta(body, computed.apiVersion, computed.kind);
        return store.createSubresource(namespace, name, subresource, body, { user: this.user });
      }
      throw errors.methodNotAllowed(`POST is not supported on ${ref.resource}/${subresource}`);
    }
    await this.authorize('create', ref, namespace);
    checkTypeMeta(body, store.apiVersion, store.type.info.kind);
    return store.create(namespace, body, { user: this.user });
  }

  /** Refuses a PUT/PATCH subresource the resource does not serve (status, or one of the kind's own). */
  private checkUpdateSubresource(store: ResourceStore, ref: ResourceRef, method: string, subresource: UpdateSubresource | undefined): void {
    if (!subresource || (store.type.info.subresources ?? []).includes(subresource) && (subresource === 'status' || store.type.strategy.subresources?.[subresource])) return;
    throw errors.methodNotAllowed(`${method} is not supported on ${ref.resource}/${subresource}`);
  }

  async update(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: UpdateSubresource): Promise<KubeObject> {
    const store = this.store(ref);
    this.checkUpdateSubresource(store, ref, 'PUT', subresource);
    const name = obj.metadata?.name;
    if (!name) throw errors.badRequest('the object to update has no name');
    await this.authorize('update', ref, namespace, name, subresource);
    const body = clone(obj);
    checkTypeMeta(body, store.apiVersion, store.type.info.kind);
    return store.update(namespace, name, body, { subresource, user: this.user });
  }

  async patch(ref: ResourceRef, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: UpdateSubresource): Promise<KubeObject> {
    const store = this.store(ref);
    this.checkUpdateSubresource(store, ref, 'PATCH', subresource);
    await this.authorize('patch', ref, namespace, name, subresource);
    return store.guaranteedUpdate(namespace, name,
      (current) => patchObject(current, PATCH_CONTENT_TYPES[type], patch, store.apiVersion, store.type.info.kind),
      { subresource, user: this.user, pure: true });
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, opts: ClientDeleteOptions = {}): Promise<void> {
    const store = this.store(ref);
    const policy = opts?.propagationPolicy;
    if (policy !== undefined && !POLICIES.includes(policy)) {
      throw errors.invalid('meta.k8s.io', 'DeleteOptions', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"` }]);
    }
    await this.authorize('delete', ref, namespace, name);
    const options: DeleteOptions = {
      user: this.user,
      gracePeriodSeconds: opts?.gracePeriodSeconds,
      propagationPolicy: policy as DeleteOptions['propagationPolicy'],
      preconditions: opts?.preconditions ? { ...opts.preconditions } : undefined,
    };
    await deleteObject(store, namespace, name, options);
  }
}
