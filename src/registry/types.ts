/**
 * What one kind plugs into the generic resource store: its identity (ResourceInfo) and its strategy —
 * defaults, validation, table columns and field selectors — in the manner of Kubernetes'
 * pkg/registry/<group>/<kind>/strategy.go. The generic store (src/registry/resource-store.ts) does the
 * rest: metadata, resourceVersion, generation, status isolation, finalizers, storage.
 */
import type { KubeObject } from '../apis/object.ts';
import type { FieldError } from '../apis/field-errors.ts';
import type { ResourceInfo } from '../apis/resources.ts';
import type { UserInfo } from '../auth/attributes.ts';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** `name` for the NAME column; '' otherwise. */
  format?: string;
  description?: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority?: number;
}

export interface TableConvertor {
  /** Columns after NAME is first; the NAME column must be included as the first one. */
  columns: TableColumn[];
  /** One cell per column, in order. `now` is passed so AGE columns are stable within one response. */
  cells(obj: KubeObject, now: Date): unknown[];
}

/** Reads a field's value for a field selector; `undefined` means the field is empty (""). */
export type FieldGetter = (obj: KubeObject) => string | undefined;

export interface Strategy {
  /** Fills defaults in place; called on create and on every update, before validation. */
  defaults?(obj: KubeObject): void;
  /**
   * On create, before validation: reset what a client may not set (e.g. a pod's status phase).
   * `user` is who creates it (a CertificateSigningRequest records its requester).
   */
  prepareForCreate?(obj: KubeObject, user?: UserInfo): void;
  /** On an update of the main resource, after the generic status copy. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /**
   * Validation of a new object (metadata is validated generically; this does the rest); on an update
   * it runs too, with the stored object as `ctx.old`. `ctx.warnings` collects the write's Warning headers.
   */
  validate?(obj: KubeObject, ctx?: ValidationContext): FieldError[];
  /** Extra validation on update: immutable fields and the like. `validate` runs too. */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Validation of a status-subresource update. */
  validateStatusUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Validation that needs asynchronous work (a CSR's signature through WebCrypto), on create after `validate`. */
  validateCreateAsync?(obj: KubeObject): Promise<FieldError[]>;
  /**
   * Update subresources the kind defines itself (certificatesigningrequests/approval), or a status
   * subresource with more to it than the generic "status changes, nothing else" (the CSR's).
   */
  subresources?: Record<string, SubresourceStrategy>;
  /** Server-side printing for `kubectl get`. Without it, NAME and AGE are served. */
  table?: TableConvertor;
  /**
   * The scale subresource's view of an object, when not spec.replicas / status.replicas / spec.selector
   * (a custom resource's specReplicasPath, statusReplicasPath and labelSelectorPath).
   */
  scale?: ScaleMapping;
  /**
   * The paths of `obj`'s fields the kind does not know, for `fieldValidation` (Strict refuses them,
   * Warn reports them), when the kind's schema is not among the built-in OpenAPI definitions (custom resources).
   */
  unknownFields?(obj: KubeObject): string[];
  /** Fields beyond metadata.name / metadata.namespace that `fieldSelector` may name. */
  fieldSelectors?: Record<string, FieldGetter>;
}

/** What an update through one of a kind's own subresources may change, and its validation. */
export interface SubresourceStrategy {
  /** The object to store, built from the stored one (`old`, a copy) and what the client sent. */
  prepare(obj: KubeObject, old: KubeObject): KubeObject;
  validate(obj: KubeObject, old: KubeObject, ctx?: ValidationContext): FieldError[];
}

export interface ScaleMapping {
  read(obj: KubeObject): { replicas: number; statusReplicas: number; selector: string };
  /** Sets the desired replicas on (a copy of) the object. */
  write(obj: KubeObject, replicas: number): void;
}

/** What validation may see besides the object: the stored one (updates) and where warnings go. */
export interface ValidationContext {
  old?: KubeObject;
  warnings?: string[];
}

export interface ResourceType {
  info: ResourceInfo;
  strategy: Strategy;
}
