import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { ApiError } from '../../errors/index.ts';
import {
  bootstrapTokenSecret, formatBootstrapToken, generateBootstrapToken, parseBootstrapToken, tokenGroups, tokenHasExpired,
  type BootstrapToken, type BootstrapTokenSecretOptions,
} from './bootstrap-token.ts';
import { BootstrapTokenAuthenticator } from './token-authenticator.ts';

/** The Secret as the API stores it: stringData folded into base64 data. */
function stored(t: BootstrapToken, opts: BootstrapTokenSecretOptions = {}, edit: (s: KubeObject) => void = () => {}): KubeObject {
  const s = bootstrapTokenSecret(t, opts);
  s.data = Object.fromEntries(Object.entries(s.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  delete s.stringData;
  edit(s);
  return s;
}

const T: BootstrapToken = { id: 'abcdef', secret: '0123456789abcdef' };

function authenticator(secrets: KubeObject[], now = new Date('2030-01-01T00:00:00Z')) {
  const refusals: string[] = [];
  const a = new BootstrapTokenAuthenticator(async (name) => secrets.find((s) => s.metadata.name === name), (why) => refusals.push(why), () => now);
  return { a, refusals };
}

async function status(p: Promise<unknown>): Promise<number | 'ok'> {
  try { await p; return 'ok'; } catch (err) { assert.ok(err instanceof ApiError, String(err)); return err.http; }
}

test('tokens parse only in the 6.16 lower-case form; generated ones round-trip', () => {
  assert.deepEqual(parseBootstrapToken('abcdef.0123456789abcdef'), T);
  for (const bad of ['ABCDEF.0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcde', 'abcdef0123456789abcdef', 'eyJhbGciOi.x.y', '']) {
    assert.equal(parseBootstrapToken(bad), undefined, bad);
  }
  const g = generateBootstrapToken();
  assert.deepEqual(parseBootstrapToken(formatBootstrapToken(g)), g);
  assert.notDeepEqual(generateBootstrapToken(), g);
});

test('a valid token is system:bootstrap:<id> in system:bootstrappers plus its extra groups', async () => {
  const { a } = authenticator([stored(T, { extraGroups: ['system:bootstrappers:workers', 'system:bootstrappers:workers'] })]);
  assert.deepEqual(await a.authenticateToken('abcdef.0123456789abcdef'), {
    name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:workers'],
  });
});

test('a token of another form is not this authenticator\'s: the next one tries', async () => {
  const { a } = authenticator([stored(T)]);
  assert.equal(await a.authenticateToken('eyJhbGciOiJFUzI1NiJ9.e30.sig'), undefined);
});

test('wrong secret, missing, expired, unmarked, deleting, mistyped or badly grouped tokens are 401s', async () => {
  const cases: [string, KubeObject[], string][] = [
    ['wrong secret', [stored(T)], 'abcdef.0123456789abcdee'],
    ['no secret', [], 'abcdef.0123456789abcdef'],
    ['expired', [stored(T, { expiration: new Date('2029-12-31T23:59:59Z') })], 'abcdef.0123456789abcdef'],
    ['unparsable expiration', [stored(T, {}, (s) => { s.data.expiration = Buffer.from('tomorrow').toString('base64'); })], 'abcdef.0123456789abcdef'],
    ['not for authentication', [stored(T, {}, (s) => { delete s.data['usage-bootstrap-authentication']; })], 'abcdef.0123456789abcdef'],
    ['being deleted', [stored(T, {}, (s) => { s.metadata.deletionTimestamp = '2029-01-01T00:00:00Z'; })], 'abcdef.0123456789abcdef'],
    ['another type', [stored(T, {}, (s) => { s.type = 'Opaque'; })], 'abcdef.0123456789abcdef'],
    ['token-id mismatch', [stored(T, {}, (s) => { s.data['token-id'] = Buffer.from('zzzzzz').toString('base64'); })], 'abcdef.0123456789abcdef'],
    ['extra group outside system:bootstrappers', [stored(T, { extraGroups: ['system:masters'] })], 'abcdef.0123456789abcdef'],
  ];
  for (const [what, secrets, token] of cases) {
    const { a, refusals } = authenticator(secrets);
    assert.equal(await status(a.authenticateToken(token)), 401, what);
    assert.equal(refusals.length, 1, what);
  }
});

test('an expiration in the future keeps the token valid; the groups helper reports bad groups', () => {
  const s = stored(T, { expiration: new Date('2030-01-02T00:00:00Z') });
  assert.equal(tokenHasExpired(s, new Date('2030-01-01T00:00:00Z')), false);
  assert.equal(tokenHasExpired(s, new Date('2030-01-02T00:00:00Z')), true);
  assert.ok(tokenGroups(stored(T, { extraGroups: ['system:bootstrappers:'] })) instanceof Error);
});

test('join tokens carry the CA hash and a bootstrap token; malformed ones say what is wrong', async () => {
  const { formatJoinToken, parseJoinToken } = await import('./join-token.ts');
  const pin = `sha256:${'ab'.repeat(32)}`;
  const text = formatJoinToken({ caPin: pin, token: T });
  assert.equal(text, `K10${'ab'.repeat(32)}::abcdef.0123456789abcdef`);
  assert.deepEqual(parseJoinToken(`${text}\n`), { caPin: pin, token: T });
  assert.throws(() => parseJoinToken('abcdef.0123456789abcdef'), /expected K10<64 hex digits/);
  assert.throws(() => parseJoinToken(`K10${'ab'.repeat(32)}::abcdef.short`), /must be a bootstrap token/);
});
