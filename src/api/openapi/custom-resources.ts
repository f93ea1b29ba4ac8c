/**
 * OpenAPI v3 (one document per group-version) and v2 (paths and definitions merged into the built-in
 * document) for the custom resources the Registry serves, built from each version's structural
 * schema — so kubectl validates their fields and `kubectl explain <kind>` works. Rebuilt when what is
 * served changes (Registry.generation). Definition names as upstream's: the group reversed
 * (`com.example.stable.v1.CronTab`). Upstream: apiextensions-apiserver pkg/controller/openapi/builder.
 */
import { createHash } from 'node:crypto';
import type { Registry } from '../../registry/registry.ts';
import type { CustomResourceType } from '../../registry/apiextensions/custom-resource-type.ts';
import type { JSONSchemaProps } from '../../apis/custom-resource-definition.ts';
import { loadDefinitions, packageFor, type Schema } from '../../apis/openapi/definitions.ts';
import { resourcePaths, type PathSpec } from './operations.ts';
import { closure, referencedBy, renderPaths, v3Schemas } from './documents.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export interface CustomOpenApi {
  /** Keyed `apis/<group>/<version>`. */
  v3: Map<string, { json: string; hash: string }>;
  v2Paths: Record<string, object>;
  v2Definitions: Record<string, Schema>;
}

const cache = new WeakMap<Registry, { generation: number; value: CustomOpenApi }>();

/** `stable.example.com`, `v1`, `CronTab` → `com.example.stable.v1.CronTab`. */
export function customDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

/** The published schema of a custom resource: its structural schema plus apiVersion, kind and ObjectMeta. */
function publishedSchema(t: CustomResourceType, ref: (d: string) => string): Schema {
  const s = structuredClone(t.schema) as JSONSchemaProps & Schema;
  const properties: Record<string, unknown> = {
    apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
    ...(s.properties ?? {}),
    metadata: { $ref: ref(`${META}.ObjectMeta`), description: "Standard object's metadata." },
  };
  return {
    ...(s as Schema), type: 'object', properties: properties as Schema['properties'],
    'x-kubernetes-group-version-kind': [{ group: t.info.group, version: t.info.version, kind: t.info.kind }],
  };
}

function listSchema(t: CustomResourceType, def: string, ref: (d: string) => string): Schema {
  return {
    type: 'object', description: `${t.info.kind}List is a list of ${t.info.kind}`, required: ['items'],
    properties: {
      apiVersion: { type: 'string' }, kind: { type: 'string' },
      items: { type: 'array', items: { $ref: ref(def) } },
      metadata: { $ref: ref(`${META}.ListMeta`) },
    },
    'x-kubernetes-group-version-kind': [{ group: t.info.group, version: t.info.version, kind: `${t.info.kind}List` }],
  };
}

/** The resource's paths with its definitions named as upstream names them. */
function pathsOf(t: CustomResourceType, def: string): PathSpec[] {
  const builtIn = `${packageFor(t.info.group, t.info.version)}.${t.info.kind}`;
  return JSON.parse(JSON.stringify(resourcePaths(t.info)).replaceAll(`"${builtIn}"`, `"${def}"`).replaceAll(`"${builtIn}List"`, `"${def}List"`)) as PathSpec[];
}

function build(registry: Registry): CustomOpenApi {
  const defs = loadDefinitions();
  const byGv = new Map<string, CustomResourceType[]>();
  for (const store of registry.served()) {
    const t = store.type as CustomResourceType;
    if (!t.schema) continue;
    const gv = `apis/${t.info.group}/${t.info.version}`;
    byGv.set(gv, [...(byGv.get(gv) ?? []), t]);
  }
  const v3 = new Map<string, { json: string; hash: string }>();
  const v2Paths: Record<string, object> = {};
  const v2Definitions: Record<string, Schema> = {};
  for (const [gv, types] of byGv) {
    const paths: PathSpec[] = [];
    const own: Record<string, Schema> = {};
    const v3ref = (d: string) => `#/components/schemas/${d}`;
    for (const t of types) {
      const def = customDefinitionName(t.info.group, t.info.version, t.info.kind);
      paths.push(...pathsOf(t, def));
      own[def] = publishedSchema(t, v3ref);
      own[`${def}List`] = listSchema(t, def, v3ref);
      const v2ref = (d: string) => `#/definitions/${d}`;
      v2Definitions[def] = publishedSchema(t, v2ref);
      v2Definitions[`${def}List`] = listSchema(t, def, v2ref);
    }
    const builtIn = closure([...referencedBy(paths).filter((d) => !own[d]), `${META}.ObjectMeta`, `${META}.ListMeta`], defs);
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' },
      paths: renderPaths(paths, true),
      components: {
        schemas: { ...v3Schemas(builtIn, defs), ...own },
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
      },
    };
    const json = JSON.stringify(doc);
    v3.set(gv, { json, hash: createHash('sha256').update(json).digest('hex').toUpperCase() });
    Object.assign(v2Paths, renderPaths(paths, false));
  }
  return { v3, v2Paths, v2Definitions };
}

/** The custom resources' OpenAPI, rebuilt only when what the Registry serves changed. */
export function customResourceOpenApi(registry: Registry): CustomOpenApi {
  const c = cache.get(registry);
  if (c && c.generation === registry.generation) return c.value;
  const value = build(registry);
  cache.set(registry, { generation: registry.generation, value });
  return value;
}
