import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noNewPrivs, userArgv } from './chain.ts';
import type { HostTools } from '../../../host/host-tools.ts';

const tools = { setpriv: '/usr/bin/setpriv' } as HostTools;
const user = { uid: 1000, gid: 1000 };

test('no_new_privs: as asked, else on for a non-root host process (the setuid binaries are the host\'s)', () => {
  assert.equal(noNewPrivs({ user, allowPrivilegeEscalation: false }), true);
  assert.equal(noNewPrivs({ user, allowPrivilegeEscalation: true }), false);
  assert.equal(noNewPrivs({ user }), true);
  assert.equal(noNewPrivs({ user: { uid: 0, gid: 1000 } }), false);
  assert.equal(noNewPrivs({}), false);
  assert.equal(noNewPrivs({ allowPrivilegeEscalation: false }), true);
});

test('the setpriv prefix carries --no-new-privs, with or without a user switch', () => {
  assert.deepEqual(userArgv(tools, user, true), ['/usr/bin/setpriv', '--no-new-privs', '--reuid', '1000', '--regid', '1000', '--clear-groups', '--']);
  assert.deepEqual(userArgv(tools, user, false), ['/usr/bin/setpriv', '--reuid', '1000', '--regid', '1000', '--clear-groups', '--']);
  assert.deepEqual(userArgv(tools, undefined, true), ['/usr/bin/setpriv', '--no-new-privs', '--']);
  assert.deepEqual(userArgv(tools, undefined, false), []);
});
