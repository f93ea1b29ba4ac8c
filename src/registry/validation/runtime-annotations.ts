/**
 * Validates Berth's `runtime.berth.dev/<container>` annotations (see src/apis/runtime-annotation.ts)
 * on pods and pod templates: the value must be a known runtime handler and the container must exist,
 * so a typo is a clear 422 instead of a pod stuck in CreateContainerError on its node.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isObject } from '../../apis/object.ts';
import { RUNTIME_ANNOTATION_PREFIX, RUNTIME_HANDLERS } from '../../apis/runtime-annotation.ts';

type Rec = Record<string, any>;

/** `metaPath` is e.g. `metadata` or `spec.template.metadata`. */
export function validateRuntimeAnnotations(meta: unknown, spec: unknown, metaPath: string): FieldError[] {
  const annotations: Rec = isObject(meta) && isObject(meta.annotations) ? meta.annotations : {};
  const s: Rec = isObject(spec) ? spec : {};
  const containers = new Set<string>(
    [...(Array.isArray(s.containers) ? s.containers : []), ...(Array.isArray(s.initContainers) ? s.initContainers : [])]
      .map((c: Rec) => c?.name)
      .filter((n: unknown): n is string => typeof n === 'string'),
  );
  const errs: FieldError[] = [];
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(RUNTIME_ANNOTATION_PREFIX)) continue;
    const path = `${metaPath}.annotations[${key}]`;
    const name = key.slice(RUNTIME_ANNOTATION_PREFIX.length);
    if (!(RUNTIME_HANDLERS as readonly string[]).includes(value)) errs.push(fieldError.notSupported(path, value, RUNTIME_HANDLERS));
    else if (!containers.has(name)) errs.push(fieldError.invalid(path, value, `no container named "${name}" in this pod`));
  }
  return errs;
}
