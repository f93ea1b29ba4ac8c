import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderHostsFile, withOwnHosts } from './lab-hosts.ts';
import { planLab } from './lab-plan.ts';

test("a lab host's /etc/hosts: the machine's entries, then the server and every host by name and address", () => {
  const lab = planLab('/tmp/lab-hosts', 3, 7);
  const text = renderHostsFile(lab, '127.0.0.1 localhost\n127.0.1.1 box\n\n');
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 2), ['127.0.0.1 localhost', '127.0.1.1 box'], 'what resolved on the machine still does');
  for (const n of lab.nodes) assert.ok(lines.includes(`${n.address}\t${n.name}`), n.name);
  assert.ok(lines.includes('198.18.7.1\tserver'));
  assert.deepEqual(lab.nodes.map((n) => n.address), ['198.18.7.11', '198.18.7.12', '198.18.7.13']);
  assert.ok(text.endsWith('\n'));
});

test('withOwnHosts runs the program with the file over /etc/hosts in a mount namespace of its own; the machine\'s file is untouched', { skip: process.getuid?.() !== 0 && 'needs root (unshare, mount)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lab-hosts-'));
  try {
    const file = join(dir, 'hosts');
    writeFileSync(file, '198.18.7.11\tnode-1\n');
    const machine = readFileSync('/etc/hosts', 'utf8');
    const [cmd, ...args] = withOwnHosts(['getent', 'hosts', '198.18.7.11'], file);
    // The reverse lookup glusterd makes of a peer's address: answered from the host's file.
    assert.match(execFileSync(cmd, args, { encoding: 'utf8' }), /^198\.18\.7\.11\s+node-1$/m);
    const [c2, ...a2] = withOwnHosts(['cat', '/etc/hosts'], file);
    assert.equal(execFileSync(c2, a2, { encoding: 'utf8' }), '198.18.7.11\tnode-1\n');
    assert.equal(readFileSync('/etc/hosts', 'utf8'), machine);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
