/**
 * The protobuf field tables against the OpenAPI definitions Berth serves: for every kind the
 * decoder accepts, walk the kind's definition through its $refs in step with the kind's message
 * table, and fail listing every property that has no table entry (a protobuf body carrying it
 * would lose it) and every property whose table entry has the wrong shape (scalar vs message vs
 * list vs map, the wrong special type or scalar type).
 *
 * Time, MicroTime, Quantity, IntOrString, RawExtension and FieldsV1 are leaves. apiVersion and kind
 * of a definition that names a kind (x-kubernetes-group-version-kind) are not message fields: the
 * top-level pair travels in the protobuf envelope, and embedded objects (StatefulSet
 * volumeClaimTemplates, Eviction deleteOptions) carry none in protobuf, upstream included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definitionNameFor, loadDefinitions, resolveSchema, type Schema } from '../../apis/openapi/definitions.ts';
import { decodedKinds, isSpecialMessage, messageSchema, type FieldSpec } from './schema.ts';

/**
 * Decoded kinds without an OpenAPI definition in Berth (so nothing to walk), with the reason.
 * The test fails when one of them gains a definition, so that it is then walked.
 */
const withoutDefinition: Record<string, string> = {
  'v1/PodTemplate': 'its spec is PodTemplateSpec, walked through the workload kinds',
  'policy/v1beta1/Eviction': 'the same message as policy/v1 Eviction, which is walked',
  'autoscaling/v1/HorizontalPodAutoscaler': 'served converted from the stored autoscaling/v2 kind (api/handlers/converted-version.ts); Berth publishes no v1 definition',
};

/** A message's fields by JSON name, inline (embedded) messages' fields merged in. */
function jsonFields(message: string): Map<string, FieldSpec> {
  const out = new Map<string, FieldSpec>();
  for (const spec of messageSchema(message)?.values() ?? []) {
    if (spec.inline && spec.message) for (const [k, v] of jsonFields(spec.message)) out.set(k, v);
    else out.set(spec.name, spec);
  }
  return out;
}

/** Last segment of a definition name: `io.k8s.api.core.v1.PodSpec` → `PodSpec`. */
const shortName = (defName: string): string => defName.slice(defName.lastIndexOf('.') + 1);

/**
 * Does a scalar table type fit an OpenAPI scalar schema? Berth's definitions carry no `byte`
 * format for []byte fields (Secret data), so a plain string also fits `bytes`.
 */
function scalarFits(type: string, s: Schema): boolean {
  switch (s.type) {
    case 'string': return s.format === 'byte' ? type === 'bytes' : type === 'string' || (type === 'bytes' && !s.format);
    case 'integer': return (type === 'int32' || type === 'int64') && (!s.format || s.format === type);
    case 'boolean': return type === 'bool';
    case 'number': return type === 'double';
    default: return false;
  }
}

interface Walk {
  missing: string[];
  mismatched: string[];
  seen: Set<string>;
  /** Definition → message pairs walked (for the sanity check that the walk went deep). */
  pairs: number;
}

/**
 * Checks one value position: `s` is the property's schema (after stripping the list/map level),
 * `type` the table's element type (a scalar, a special or a tabled message name).
 */
function checkValue(w: Walk, path: string, s: Schema, type: string): void {
  if (s.$ref) {
    const { schema, defName } = resolveSchema(s);
    if (!schema || !defName) { w.mismatched.push(`${path}: unresolvable ${s.$ref}`); return; }
    const name = shortName(defName);
    if (isSpecialMessage(name)) {
      if (type !== name) w.mismatched.push(`${path}: OpenAPI ${name}, table ${type}`);
      return;
    }
    if (!messageSchema(type)) { w.mismatched.push(`${path}: OpenAPI object ${name}, table ${type}`); return; }
    if (name !== type) w.mismatched.push(`${path}: OpenAPI ${name}, table message ${type}`);
    walk(w, path, defName, schema, type);
    return;
  }
  // ExtraValue (a user's extra values) is a message whose JSON is a plain list of strings.
  if (type === 'ExtraValue') {
    if (s.type !== 'array' || s.items?.type !== 'string') w.mismatched.push(`${path}: OpenAPI ${s.type}, table ExtraValue (a list of strings)`);
    return;
  }
  if (!scalarFits(type, s)) w.mismatched.push(`${path}: OpenAPI ${s.type}${s.format ? `/${s.format}` : ''}, table ${type}`);
}

/** Walks definition `defName` (schema `def`) against message `message`. */
function walk(w: Walk, path: string, defName: string, def: Schema, message: string): void {
  const key = `${defName}→${message}`;
  if (w.seen.has(key)) return;
  w.seen.add(key);
  w.pairs++;
  const fields = jsonFields(message);
  const namesKind = !!def['x-kubernetes-group-version-kind']?.length;
  for (const [prop, propSchema] of Object.entries(def.properties ?? {})) {
    if (namesKind && (prop === 'apiVersion' || prop === 'kind')) continue;
    const at = `${path}.${prop}`;
    const spec = fields.get(prop);
    if (!spec) { w.missing.push(`${at} (${message} has no field "${prop}")`); continue; }
    if (spec.map) {
      const values = propSchema.additionalProperties;
      if (propSchema.type !== 'object' || !values || typeof values !== 'object') {
        w.mismatched.push(`${at}: table map, OpenAPI ${propSchema.type ?? propSchema.$ref}`);
      } else checkValue(w, at, values, spec.map.value);
    } else if (spec.repeated) {
      if (propSchema.type !== 'array' || !propSchema.items) w.mismatched.push(`${at}: table list, OpenAPI ${propSchema.type ?? propSchema.$ref}`);
      else checkValue(w, `${at}[]`, propSchema.items, spec.message ?? spec.type);
    } else if (propSchema.type === 'array' || (propSchema.type === 'object' && propSchema.additionalProperties)) {
      w.mismatched.push(`${at}: OpenAPI ${propSchema.type}, table single ${spec.message ?? spec.type}`);
    } else {
      checkValue(w, at, propSchema, spec.message ?? spec.type);
    }
  }
}

test('every property of every decoded kind has a protobuf table entry of the right shape', () => {
  const started = performance.now();
  const defs = loadDefinitions();
  const w: Walk = { missing: [], mismatched: [], seen: new Set(), pairs: 0 };
  const undefinedKinds: string[] = [];
  for (const { apiVersion, kind, message } of decodedKinds()) {
    const defName = definitionNameFor(apiVersion, kind, defs);
    if (!defName) { undefinedKinds.push(`${apiVersion}/${kind}`); continue; }
    walk(w, `${apiVersion}/${kind}`, defName, defs[defName], message);
  }
  assert.deepEqual(w.missing, [], `properties without a protobuf table entry:\n  ${w.missing.join('\n  ')}`);
  assert.deepEqual(w.mismatched, [], `properties whose table entry has the wrong shape:\n  ${w.mismatched.join('\n  ')}`);
  assert.deepEqual(undefinedKinds.sort(), Object.keys(withoutDefinition).sort(), 'decoded kinds without an OpenAPI definition');
  assert.ok(w.pairs > 150, `the walk reached only ${w.pairs} definitions`);
  assert.ok(performance.now() - started < 1000, 'the walk takes under a second');
});

test('the walk reports a property the table lacks', () => {
  const w: Walk = { missing: [], mismatched: [], seen: new Set(), pairs: 0 };
  const def: Schema = { properties: { name: { type: 'string' }, brandNew: { type: 'string' }, mode: { type: 'string' } } };
  walk(w, 'x', 'test.Fake', def, 'KeyToPath');
  assert.deepEqual(w.missing, ['x.name (KeyToPath has no field "name")', 'x.brandNew (KeyToPath has no field "brandNew")']);
  assert.deepEqual(w.mismatched, ['x.mode: OpenAPI string, table int32']);
});
