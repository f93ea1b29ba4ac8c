import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabelSelector, LabelSelector } from './label-selector.ts';
import { fromLabelSelectorSpec, labelSelectorToString, formatLabelSelector } from './label-selector-spec.ts';
import { SelectorError } from './selector-error.ts';

const L = { app: 'web', tier: 'front', env: 'prod', n: '5' };

test('empty string matches everything', () => {
  for (const s of ['', '   ']) {
    const sel = parseLabelSelector(s);
    assert.equal(sel.empty, true);
    assert.equal(sel.matches(L), true);
    assert.equal(sel.matches(undefined), true);
    assert.equal(sel.toString(), '');
  }
});

test('equality operators', () => {
  assert.equal(parseLabelSelector('app=web').matches(L), true);
  assert.equal(parseLabelSelector('app==web').matches(L), true);
  assert.equal(parseLabelSelector('app=db').matches(L), false);
  assert.equal(parseLabelSelector('app!=db').matches(L), true);
  assert.equal(parseLabelSelector('app!=web').matches(L), false);
  // A missing key satisfies != but not =.
  assert.equal(parseLabelSelector('missing!=x').matches(L), true);
  assert.equal(parseLabelSelector('missing=x').matches(L), false);
  assert.equal(parseLabelSelector('app=web').matches(undefined), false);
});

test('empty value after =', () => {
  const sel = parseLabelSelector('a=');
  assert.deepEqual(sel.requirements, [{ key: 'a', operator: '=', values: [''] }]);
  assert.equal(sel.matches({ a: '' }), true);
  assert.equal(sel.matches({ a: 'x' }), false);
  assert.equal(parseLabelSelector('a=,b').requirements.length, 2);
});

test('set-based operators', () => {
  assert.equal(parseLabelSelector('tier in (front,back)').matches(L), true);
  assert.equal(parseLabelSelector('tier in (back)').matches(L), false);
  assert.equal(parseLabelSelector('tier notin (back)').matches(L), true);
  assert.equal(parseLabelSelector('tier notin (front, back)').matches(L), false);
  assert.equal(parseLabelSelector('missing notin (x)').matches(L), true);
  assert.equal(parseLabelSelector('missing in (x)').matches(L), false);
  assert.deepEqual(parseLabelSelector('k in (b,a,b)').requirements[0].values, ['a', 'b']);
  assert.deepEqual(parseLabelSelector('k in ()').requirements[0].values, ['']);
  assert.deepEqual(parseLabelSelector('k in (a,)').requirements[0].values, ['', 'a']);
  assert.deepEqual(parseLabelSelector('k in (,a)').requirements[0].values, ['', 'a']);
});

test('existence operators', () => {
  assert.equal(parseLabelSelector('app').matches(L), true);
  assert.equal(parseLabelSelector('nope').matches(L), false);
  assert.equal(parseLabelSelector('!nope').matches(L), true);
  assert.equal(parseLabelSelector('!app').matches(L), false);
  assert.equal(parseLabelSelector(' ! app ').matches(L), false);
});

test('keywords are plain values in value position', () => {
  assert.equal(parseLabelSelector('x=in').matches({ x: 'in' }), true);
  assert.equal(parseLabelSelector('x in (in,notin)').matches({ x: 'notin' }), true);
});

test('gt / lt', () => {
  assert.equal(parseLabelSelector('n>3').matches(L), true);
  assert.equal(parseLabelSelector('n<3').matches(L), false);
  assert.equal(parseLabelSelector('app>3').matches(L), false);
  assert.throws(() => parseLabelSelector('n>x'), /must be an integer/);
});

test('comma-separated AND, whitespace tolerant, sorted string form', () => {
  const sel = parseLabelSelector('  tier in ( front , back ) , app = web,!gone,env');
  assert.equal(sel.matches(L), true);
  assert.equal(sel.matches({ ...L, gone: '1' }), false);
  assert.equal(sel.toString(), 'app=web,env,!gone,tier in (back,front)');
  assert.equal(parseLabelSelector('b!=1,a==2').toString(), 'a==2,b!=1');
});

test('prefixed keys', () => {
  const sel = parseLabelSelector('app.kubernetes.io/name=web');
  assert.equal(sel.matches({ 'app.kubernetes.io/name': 'web' }), true);
});

test('syntax errors', () => {
  const cases: [string, RegExp][] = [
    ['app=web,', /found '', expected: identifier after ','/],
    ['app=web foo', /found 'foo', expected: ',' or 'end of string'/],
    ['app foo', /found 'foo', expected: ',' or 'end of string'|unable to parse requirement/],
    ['=web', /found '=', expected: !, identifier, or 'end of string'/],
    ['app in a', /unable to parse requirement: found 'a', expected:'\('/],
    ['app in (a', /unable to parse requirement: found '', expected: ',' or '\)'/],
    ['app in (a b)', /found 'b', expected: ',' or '\)'/],
    ['app=(', /unable to parse requirement: found '\(', expected: identifier/],
    ['!a=b', /found '=', expected: ',' or 'end of string'/],
    [',', /found ',', expected: !, identifier/],
  ];
  for (const [s, re] of cases) {
    assert.throws(() => parseLabelSelector(s), (e: unknown) => e instanceof SelectorError && re.test(e.message), s);
  }
});

test('invalid keys and values', () => {
  assert.throws(() => parseLabelSelector('-bad=x'), /unable to parse requirement: Invalid value: "-bad": name part must consist/);
  assert.throws(() => parseLabelSelector('a/b/c'), /qualified name/);
  assert.throws(() => parseLabelSelector('app=-x-'), /values\[0\]: Invalid value: "-x-": a valid label must be/);
  assert.throws(() => parseLabelSelector(`app=${'x'.repeat(64)}`), /no more than 63/);
  assert.throws(() => parseLabelSelector('k in (ok,b@d)'), /Invalid value: "b@d"/);
});

test('fromLabelSelectorSpec: null matches nothing, empty matches everything', () => {
  const nothing = fromLabelSelectorSpec(null);
  assert.equal(nothing.matches(L), false);
  assert.equal(nothing.empty, false);
  assert.equal(fromLabelSelectorSpec(undefined).matches({}), false);
  const all = fromLabelSelectorSpec({});
  assert.equal(all.empty, true);
  assert.equal(all.matches(undefined), true);
  assert.equal(fromLabelSelectorSpec({ matchLabels: {}, matchExpressions: [] }).matches(L), true);
  assert.ok(LabelSelector.nothing().toString() === '');
});

test('fromLabelSelectorSpec: labels and expressions', () => {
  const spec = {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['front', 'back'] },
      { key: 'env', operator: 'NotIn', values: ['dev'] },
      { key: 'n', operator: 'Exists' },
      { key: 'gone', operator: 'DoesNotExist' },
    ],
  };
  const sel = fromLabelSelectorSpec(spec);
  assert.equal(sel.matches(L), true);
  assert.equal(sel.matches({ ...L, env: 'dev' }), false);
  assert.equal(sel.matches({ ...L, gone: '' }), false);
  assert.equal(labelSelectorToString(spec), 'app=web,env notin (dev),!gone,n,tier in (back,front)');
  assert.equal(labelSelectorToString({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');
  assert.equal(labelSelectorToString(null), '');
});

test('fromLabelSelectorSpec: errors', () => {
  assert.throws(() => fromLabelSelectorSpec({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }), /"Foo" is not a valid label selector operator/);
  assert.throws(() => fromLabelSelectorSpec({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), /values set can't be empty/);
  assert.throws(() => fromLabelSelectorSpec({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), /must be empty/);
  assert.throws(() => fromLabelSelectorSpec({ matchLabels: { 'bad key': 'v' } }), SelectorError);
});

test('formatLabelSelector', () => {
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Nope' }] }), '<error>');
});
