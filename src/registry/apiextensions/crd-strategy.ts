/**
 * The CustomResourceDefinition kind's strategy (apiextensions-apiserver
 * pkg/registry/customresourcedefinition/strategy.go): v1 defaults (singular, listKind, conversion
 * None), status reset on create with the storage version as the first stored version, a new storage
 * version added to status.storedVersions on update, the cleanup finalizer held while the CRD lives,
 * and the validation of crd-validation.ts on every write (status writes included).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { CRD_CLEANUP_FINALIZER, storageVersion, type Crd } from '../../apis/custom-resource-definition.ts';
import { validateCrd } from './crd-validation.ts';
import { isObject } from './schema.ts';

function setDefaults(obj: KubeObject): void {
  const crd = obj as Crd;
  if (!isObject(crd.spec)) return;
  const n = crd.spec.names;
  if (isObject(n) && typeof n.kind === 'string') {
    n.singular ??= n.kind.toLowerCase();
    n.listKind ??= `${n.kind}List`;
  }
  crd.spec.conversion ??= { strategy: 'None' };
  crd.spec.conversion.strategy ??= 'None';
  for (const v of Array.isArray(crd.spec.versions) ? crd.spec.versions : []) {
    v.served ??= false;
    v.storage ??= false;
  }
}

function holdFinalizer(obj: KubeObject): void {
  if (obj.metadata.deletionTimestamp) return;
  const f = obj.metadata.finalizers ?? [];
  if (!f.includes(CRD_CLEANUP_FINALIZER)) obj.metadata.finalizers = [...f, CRD_CLEANUP_FINALIZER];
}

export const customResourceDefinitionStrategy: Strategy = {
  defaults: setDefaults,
  prepareForCreate(obj) {
    const crd = obj as Crd;
    const storage = isObject(crd.spec) && Array.isArray(crd.spec.versions) ? storageVersion(crd)?.name : undefined;
    crd.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage] : [] };
    holdFinalizer(obj);
  },
  prepareForUpdate(obj, old) {
    const crd = obj as Crd;
    const storage = isObject(crd.spec) && Array.isArray(crd.spec.versions) ? storageVersion(crd)?.name : undefined;
    const stored = (old as Crd).status?.storedVersions ?? [];
    if (storage && !stored.includes(storage)) crd.status = { ...(crd.status ?? {}), storedVersions: [...stored, storage] };
    if (!old.metadata.deletionTimestamp && old.metadata.finalizers?.includes(CRD_CLEANUP_FINALIZER)) holdFinalizer(obj);
  },
  validate(obj, ctx) {
    return validateCrd(obj as Crd, ctx?.old as Crd | undefined);
  },
  validateStatusUpdate(obj) {
    const crd = obj as Crd;
    const errs = validateCrd(crd);
    const storage = storageVersion(crd)?.name;
    if (storage && !(crd.status?.storedVersions ?? []).includes(storage)) {
      errs.push({ type: 'FieldValueInvalid', field: 'status.storedVersions', message: `Invalid value: ${JSON.stringify(crd.status?.storedVersions ?? [])}: must have the storage version ${storage}` });
    }
    return errs;
  },
  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' },
      { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' },
    ],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
  },
};
