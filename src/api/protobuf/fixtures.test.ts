/**
 * Decodes the protobuf bodies kubectl 1.32 really sent (fixtures/*.bin, captured by
 * capture-fixtures.ts) and compares them with what `kubectl … --dry-run=client -o json` printed
 * for the same command (fixtures/*.json).
 *
 * The one normalization: JSON nulls are dropped from the expected object. Kubernetes prints a zero
 * metav1.Time as `"creationTimestamp": null`; the decoder omits it, which means the same thing to
 * every Kubernetes JSON reader. Everything else — `{}` for empty non-pointer structs such as
 * `status: {}` and `resources: {}`, zero counters without omitempty such as a
 * PodDisruptionBudget's status — must match exactly.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeKubernetesProtobuf } from './decode.ts';

const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Fixtures the suite must find: one per kubectl command covered. */
const required = [
  'configmap-literal', 'configmap-files', 'secret-generic', 'secret-docker-registry', 'secret-tls',
  'namespace', 'serviceaccount', 'deployment-simple', 'deployment-full', 'job', 'job-from-cronjob', 'cronjob',
  'service-clusterip', 'service-headless', 'service-nodeport', 'service-loadbalancer', 'service-externalname', 'pdb',
];

/** Drops null-valued properties, recursively. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
  }
  return v;
}

const present = new Set(readdirSync(dir));

test('every covered kubectl command has a captured body and its expected JSON', () => {
  for (const name of required) {
    assert.ok(present.has(`${name}.bin`), `missing fixtures/${name}.bin`);
    assert.ok(present.has(`${name}.json`), `missing fixtures/${name}.json`);
  }
});

for (const name of required) {
  test(`kubectl fixture ${name} decodes to kubectl's JSON`, () => {
    const body = readFileSync(`${dir}${name}.bin`);
    const expected = dropNulls(JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8'))) as Record<string, unknown>;
    const decoded = decodeKubernetesProtobuf(body);
    assert.equal(decoded.apiVersion, expected.apiVersion);
    assert.equal(decoded.kind, expected.kind);
    assert.deepEqual(decoded.unknownFields, []);
    assert.deepEqual(decoded.object, expected);
  });
}
