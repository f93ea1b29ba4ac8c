import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity, tryParseQuantity } from './quantity.ts';

test('parseQuantity handles decimal, binary, milli and exponent forms', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('100m'), parseQuantity('0.1'));
  assert.equal(parseQuantity('2'), 2);
  assert.equal(parseQuantity(3), 3);
  assert.equal(parseQuantity('1Ki'), 1024);
  assert.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
  assert.equal(parseQuantity('128M'), 128e6);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('1k'), 1000);
  assert.throws(() => parseQuantity('abc'));
  assert.equal(tryParseQuantity('1.2.3'), undefined);
  assert.equal(tryParseQuantity('10Mb'), undefined);
  assert.equal(tryParseQuantity('500M'), 5e8);
  assert.equal(tryParseQuantity('ten'), undefined);
});
