/**
 * ControllerRevisions (pkg/registry/apps/controllerrevision/strategy.go): `data` is required and
 * immutable, `revision` non-negative. They carry no status.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { jsonEqual, nonNegative } from '../validation/fields.ts';

export const controllerRevisionStrategy: Strategy = {
  validate(obj: KubeObject): FieldError[] {
    const errs: FieldError[] = [];
    if (obj.data === undefined || obj.data === null) errs.push(fieldError.required('data', 'data is mandatory'));
    if (obj.revision !== undefined && typeof obj.revision !== 'number') errs.push(fieldError.typeInvalid('revision', obj.revision, 'must be an integer'));
    errs.push(...nonNegative(obj.revision, 'revision'));
    return errs;
  },

  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
    return jsonEqual(obj.data, old.data) ? [] : [fieldError.immutable('data', obj.data)];
  },
};
