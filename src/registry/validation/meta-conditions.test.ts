import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateMetaConditions } from './meta-conditions.ts';

const at = '2024-01-01T00:00:00Z';
const msgs = (list: unknown) => validateMetaConditions(list, 'status.conditions').map((e) => `${e.field}: ${e.message}`);

test('valid conditions pass; absent lists pass', () => {
  assert.deepEqual(msgs([{ type: 'Ready', status: 'True', reason: 'AllGood', message: '', lastTransitionTime: at }, { type: 'example.com/Other', status: 'Unknown', reason: 'A:B,C_', message: 'm', lastTransitionTime: at, observedGeneration: 3 }]), []);
  assert.deepEqual(msgs(undefined), []);
});

test('type, status, reason, observedGeneration and lastTransitionTime are checked as metav1 ValidateCondition', () => {
  assert.deepEqual(msgs([{ type: 'bad type', status: 'Yes', reason: '1st', lastTransitionTime: at, observedGeneration: -1 }]), [
    "status.conditions[0].type: Invalid value: \"bad type\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    'status.conditions[0].status: Unsupported value: "Yes": supported values: "False", "True", "Unknown"',
    'status.conditions[0].observedGeneration: Invalid value: -1: must be greater than or equal to zero',
    "status.conditions[0].reason: Invalid value: \"1st\": a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')",
  ]);
  assert.deepEqual(msgs([{ type: 'A', status: 'True', reason: 'R', message: 'x'.repeat(32 * 1024 + 1), lastTransitionTime: at }]), ['status.conditions[0].message: Too long: may not be more than 32768 bytes']);
});
