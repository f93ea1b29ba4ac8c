/**
 * What one kind plugs into the generic resource store: its identity (ResourceInfo) and its strategy —
 * defaults, validation, table columns and field selectors — in the manner of Kubernetes'
 * pkg/registry/<group>/<kind>/strategy.go. The generic store (src/registry/resource-store.ts) does the
 * rest: metadata, resourceVersion, generation, status isolation, finalizers, storage.
 */
import type { KubeObject } from '../apis/object.ts';
import type { FieldError } from '../apis/field-errors.ts';
import type { ResourceInfo } from '../apis/resources.ts';

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
  /** On create, before validation: reset what a client may not set (e.g. a pod's status phase). */
  prepareForCreate?(obj: KubeObject): void;
  /** On an update of the main resource, after the generic status copy. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Validation of a new object (metadata is validated generically; this does the rest). */
  validate?(obj: KubeObject): FieldError[];
  /** Extra validation on update: immutable fields and the like. `validate` runs too. */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Validation of a status-subresource update. */
  validateStatusUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Server-side printing for `kubectl get`. Without it, NAME and AGE are served. */
  table?: TableConvertor;
  /** Fields beyond metadata.name / metadata.namespace that `fieldSelector` may name. */
  fieldSelectors?: Record<string, FieldGetter>;
}

export interface ResourceType {
  info: ResourceInfo;
  strategy: Strategy;
}
