/**
 * Generates src/apis/openapi/definitions.json: OpenAPI (swagger 2 style) definitions for every kind
 * in RESOURCES, its List, a few meta types, and everything they reference, read with the TypeScript
 * compiler API from kubernetes-models' .d.ts files (JSDoc → description, string-literal unions → enum).
 * Integer-vs-number and int32/int64 come from the package's compiled validators (`_schemas/*.mjs`),
 * since .d.ts only says `number`. Patch strategies come from src/apis/patch/merge-keys.ts; server-side
 * apply's list types, atomic structs and list-map key defaults from src/apis/merge/list-types.ts.
 *
 * Run: node --import tsx scripts/gen-openapi.ts [--check]
 * Descriptions longer than MAX_DESCRIPTION are cut at a sentence end (or word) and end with "…".
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { RESOURCES } from '../src/apis/resources.ts';
import { MERGE_KEYS } from '../src/apis/patch/merge-keys.ts';
import { ATOMIC_STRUCTS, KEY_DEFAULTS, LIST_TYPES } from '../src/apis/merge/list-types.ts';
import type { Schema, Definitions } from '../src/apis/openapi/definitions.ts';

const MAX_DESCRIPTION = 400;
const OUT = new URL('../src/apis/openapi/definitions.json', import.meta.url);

const require = createRequire(import.meta.url);
const MODELS = path.dirname(require.resolve('kubernetes-models/package.json'));
const APIMACHINERY = path.dirname(
  createRequire(path.join(MODELS, 'package.json')).resolve('@kubernetes-models/apimachinery/package.json'),
);

/** Types whose schema is fixed by Kubernetes' custom (un)marshalling, not by their Go struct. */
const SPECIAL: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string', format: 'quantity' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
};

/** Inline object types in the declarations that Kubernetes defines as a named definition. */
const INLINE_REFS: Record<string, string> = {
  'io.k8s.api.apps.v1.StatefulSetSpec.volumeClaimTemplates': 'io.k8s.api.core.v1.PersistentVolumeClaim',
};

/** Kinds that are not in RESOURCES but which documents reference; `[file, gvks]`. */
const EXTRA_KINDS: [string, { group: string; version: string; kind: string }[]][] = [
  [path.join(APIMACHINERY, 'apis/meta/v1/ObjectMeta.d.ts'), []],
  [path.join(APIMACHINERY, 'apis/meta/v1/ListMeta.d.ts'), []],
  [path.join(APIMACHINERY, 'apis/meta/v1/Status.d.ts'), [{ group: '', version: 'v1', kind: 'Status' }]],
  [path.join(APIMACHINERY, 'apis/meta/v1/DeleteOptions.d.ts'), [{ group: '', version: 'v1', kind: 'DeleteOptions' }]],
  [path.join(APIMACHINERY, 'apis/meta/v1/WatchEvent.d.ts'), [{ group: '', version: 'v1', kind: 'WatchEvent' }]],
  [path.join(APIMACHINERY, 'apis/meta/v1/Patch.d.ts'), []],
  [path.join(MODELS, 'autoscaling/v1/Scale.d.ts'), []],
  [path.join(MODELS, 'policy/v1/Eviction.d.ts'), []],
  [path.join(MODELS, 'v1/Binding.d.ts'), []],
  [path.join(MODELS, 'authentication.k8s.io/v1/TokenRequest.d.ts'), []],
];

/** Kubernetes definition name for a declaration file, from its place in the packages. */
function definitionName(file: string): string {
  const base = path.basename(file, '.d.ts');
  const norm = file.split(path.sep).join('/');
  const am = norm.match(/@kubernetes-models\/apimachinery\/(.+)\/[^/]+\.d\.ts$/);
  if (am) return `io.k8s.apimachinery.pkg.${am[1].replaceAll('/', '.')}.${base}`;
  const m = norm.match(/kubernetes-models\/(?:([^/]+)\/)?([^/]+)\/[^/]+\.d\.ts$/);
  if (!m) throw new Error(`cannot name ${file}`);
  const [group, version] = m[1] ? [m[1], m[2]] : ['', m[2]];
  return group === '' ? `io.k8s.api.core.${version}.${base}` : `io.k8s.api.${group.split('.')[0]}.${version}.${base}`;
}

function modelFile(group: string, version: string, kind: string): string {
  return path.join(MODELS, group || '', version, `${kind}.d.ts`);
}

/** `io.k8s.api.apps.v1.DeploymentSpec` → compiled validator file of kubernetes-models. */
function validatorFile(defName: string): string | undefined {
  const camel = defName.split('.').map((s) => s[0].toUpperCase() + s.slice(1)).join('');
  for (const dir of [path.join(MODELS, '_schemas'), path.join(APIMACHINERY, '_schemas')]) {
    const f = path.join(dir, `${camel}.mjs`);
    if (existsSync(f)) return f;
  }
  return undefined;
}

/** property → {type, format} for numeric properties, read from the minified ajv validator. */
function numericFormats(defName: string): Map<string, { type: 'integer' | 'number'; format?: string }> {
  const out = new Map<string, { type: 'integer' | 'number'; format?: string }>();
  const file = validatorFile(defName);
  if (!file) return out;
  const src = readFileSync(file, 'utf8');
  const formatVars = new Map<string, string>();
  for (const m of src.matchAll(/(formats\d+)=formats\.(\w+)/g)) formatVars.set(m[1], m[2]);
  const call = /(validate\d+)\(data(?:\.\w+|\["[^"]+"\]),\{instancePath:instancePath\+"\/[^"]*",parentData:data,parentDataProperty:"([^"]+)"/g;
  for (const m of src.matchAll(call)) {
    const start = src.indexOf(`function ${m[1]}(`);
    if (start < 0) continue;
    const next = src.indexOf('function validate', start + 10);
    const body = src.slice(start, next < 0 ? undefined : next);
    const type = body.includes('type:"integer"') ? 'integer' : body.includes('type:"number"') ? 'number' : undefined;
    if (!type) continue;
    const fv = body.match(/(formats\d+)\.validate/);
    out.set(m[2], { type, format: fv ? formatVars.get(fv[1]) : undefined });
  }
  return out;
}

function shorten(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  if (t.length <= MAX_DESCRIPTION) return t;
  const cut = t.slice(0, MAX_DESCRIPTION);
  const sentence = cut.lastIndexOf('. ');
  const end = sentence > MAX_DESCRIPTION / 2 ? sentence + 1 : cut.lastIndexOf(' ');
  return cut.slice(0, end) + ' …';
}

const roots = [
  // Create-only resources (the reviews) have no List kind.
  ...RESOURCES.flatMap((r) => [modelFile(r.group, r.version, r.kind), ...(r.verbs && !r.verbs.includes('list') ? [] : [modelFile(r.group, r.version, `${r.kind}List`)])]),
  ...EXTRA_KINDS.map(([f]) => f),
];
const program = ts.createProgram(roots, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const defs: Definitions = {};
const queue: { file: string; name: string }[] = [];
const problems: string[] = [];

/** Interface `I<Kind>` declared in a model file. */
function mainInterface(sf: ts.SourceFile): ts.InterfaceDeclaration | undefined {
  const want = `I${path.basename(sf.fileName, '.d.ts')}`;
  return sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === want);
}

/** Schema (a `$ref` for named model types) of a type written in a declaration. */
function typeSchema(node: ts.TypeNode, where: string): Schema {
  if (node.kind === ts.SyntaxKind.StringKeyword) return { type: 'string' };
  if (node.kind === ts.SyntaxKind.NumberKeyword) return { type: 'integer' };
  if (node.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
  if (node.kind === ts.SyntaxKind.AnyKeyword || node.kind === ts.SyntaxKind.UnknownKeyword) {
    return { 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) return { type: 'string' };
  if (ts.isUnionTypeNode(node)) {
    const lits = node.types.map((t) => (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined));
    if (lits.every((l) => l !== undefined)) return { type: 'string', enum: lits as string[] };
  }
  if (ts.isArrayTypeNode(node)) return { type: 'array', items: typeSchema(node.elementType, where) };
  if (ts.isTypeLiteralNode(node)) {
    if (INLINE_REFS[where]) return { $ref: `#/definitions/${INLINE_REFS[where]}` };
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (index && node.members.length === 1) return { type: 'object', additionalProperties: typeSchema(index.type, where) };
  }
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText();
    if (name === 'Array' && node.typeArguments?.length === 1) return { type: 'array', items: typeSchema(node.typeArguments[0], where) };
    let sym = checker.getSymbolAtLocation(node.typeName);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    const decl = sym?.declarations?.[0];
    if (decl) {
      const file = decl.getSourceFile().fileName;
      const defName = definitionName(file);
      if (!defs[defName] && !queue.some((q) => q.name === defName)) queue.push({ file, name: defName });
      return { $ref: `#/definitions/${defName}` };
    }
  }
  problems.push(`${where}: unhandled type ${node.getText()}`);
  return {};
}

function jsDoc(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n');
  return shorten(text);
}

function buildDefinition(file: string, defName: string, gvks: { group: string; version: string; kind: string }[]): void {
  if (SPECIAL[defName]) {
    defs[defName] = { ...SPECIAL[defName] };
    const sf = program.getSourceFile(file);
    const decl = sf?.statements.find((s) => ts.isTypeAliasDeclaration(s) || ts.isInterfaceDeclaration(s));
    const description = decl && jsDoc(decl);
    if (description) defs[defName].description = description;
    return;
  }
  const sf = program.getSourceFile(file);
  const iface = sf && mainInterface(sf);
  if (!iface) {
    problems.push(`${defName}: no interface in ${file}`);
    return;
  }
  const numeric = numericFormats(defName);
  const patchMeta = MERGE_KEYS[defName] ?? {};
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  let apiVersion: string | undefined;
  let kind: string | undefined;
  for (const member of iface.members) {
    if (!ts.isPropertySignature(member) || !member.type) continue;
    const name = ts.isStringLiteral(member.name) || ts.isIdentifier(member.name) ? member.name.text : member.name.getText();
    if (!member.questionToken) required.push(name);
    const t = member.type;
    if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) {
      if (name === 'apiVersion') apiVersion = t.literal.text;
      if (name === 'kind') kind = t.literal.text;
    }
    let schema = typeSchema(t, `${defName}.${name}`);
    const num = numeric.get(name);
    if (num && schema.type === 'integer') schema = { ...schema, type: num.type, ...(num.format ? { format: num.format } : {}) };
    else if (num && schema.type === 'array' && schema.items?.type === 'integer') schema.items = { type: num.type, ...(num.format ? { format: num.format } : {}) };
    const description = jsDoc(member);
    const pm = patchMeta[name];
    const lt = LIST_TYPES[defName]?.[name];
    const def = KEY_DEFAULTS[defName]?.[name];
    properties[name] = {
      ...(description ? { description } : {}),
      ...schema,
      ...(def !== undefined ? { default: def } : {}),
      ...(lt ? { 'x-kubernetes-list-type': lt.type } : {}),
      ...(lt?.keys ? { 'x-kubernetes-list-map-keys': lt.keys } : {}),
      ...(pm?.mergeKey ? { 'x-kubernetes-patch-merge-key': pm.mergeKey } : {}),
      ...(pm ? { 'x-kubernetes-patch-strategy': pm.strategy } : {}),
    };
  }
  const def: Schema = { type: 'object' };
  const description = jsDoc(iface);
  if (description) def.description = description;
  def.properties = properties;
  if (required.length) def.required = required;
  if (apiVersion && kind) {
    const slash = apiVersion.indexOf('/');
    gvks = [{ group: slash < 0 ? '' : apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind }];
  }
  if (gvks.length) def['x-kubernetes-group-version-kind'] = gvks;
  if (ATOMIC_STRUCTS.includes(defName)) def['x-kubernetes-map-type'] = 'atomic';
  defs[defName] = def;
}

for (const file of roots) {
  const extra = EXTRA_KINDS.find(([f]) => f === file);
  buildDefinition(file, definitionName(file), extra?.[1] ?? []);
}
while (queue.length) {
  const { file, name } = queue.shift()!;
  if (!defs[name]) buildDefinition(file, name, []);
}
for (const table of [LIST_TYPES, KEY_DEFAULTS]) {
  for (const [defName, fields] of Object.entries(table)) {
    for (const f of Object.keys(fields)) {
      if (!defs[defName]?.properties?.[f]) problems.push(`list-types: ${defName}.${f} is not a property`);
    }
  }
}
for (const name of ATOMIC_STRUCTS) if (!defs[name]) problems.push(`list-types: no definition ${name}`);
for (const [defName, fields] of Object.entries(MERGE_KEYS)) {
  for (const f of Object.keys(fields)) {
    if (defs[defName] && !defs[defName].properties?.[f]) problems.push(`merge-keys: ${defName}.${f} is not a property`);
  }
}

const sorted: Definitions = {};
for (const k of Object.keys(defs).sort()) sorted[k] = defs[k];
const json = JSON.stringify(sorted) + '\n';
if (problems.length) console.error(problems.join('\n'));
if (process.argv.includes('--check')) {
  const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  if (current !== json) {
    console.error('definitions.json is out of date; run node --import tsx scripts/gen-openapi.ts');
    process.exit(1);
  }
  console.log('definitions.json is up to date');
} else {
  writeFileSync(OUT, json);
  console.log(`wrote ${Object.keys(sorted).length} definitions, ${json.length} bytes`);
}
