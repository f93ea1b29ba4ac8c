import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certificateInfo } from '../../pki/certificate-info.ts';
import { createCA, issueCertificate, type KeyPairPem } from '../../pki/certificates.ts';
import { CertificateManager } from './certificate-manager.ts';

const ca = await createCA('cm-test');
const issue = () => issueCertificate(ca, { commonName: 'system:node:n1', organizations: ['system:nodes'], usage: 'client', validityDays: 10 });

test('obtains when there is nothing, reuses what is on disk, and obtains again what no longer fits or has expired', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cm-'));
  try {
    let obtained = 0;
    const obtain = async () => { obtained++; return issue(); };
    const a = new CertificateManager({ name: 'client', dir, obtain });
    const first = await a.start();
    a.stop();
    assert.equal(obtained, 1);
    assert.equal(statSync(join(dir, 'client.key')).mode & 0o777, 0o600);
    const b = new CertificateManager({ name: 'client', dir, obtain });
    assert.equal((await b.start()).cert, first.cert, 'loaded from disk');
    b.stop();
    assert.equal(obtained, 1);
    const c = new CertificateManager({ name: 'client', dir, obtain, acceptable: () => false });
    assert.notEqual((await c.start()).cert, first.cert);
    c.stop();
    const expiredNow = () => certificateInfo(first.cert).notAfter.getTime() + 86_400_000 * 30;
    const d = new CertificateManager({ name: 'client', dir, obtain, now: expiredNow });
    await d.start();
    d.stop();
    assert.equal(obtained, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('renews at 70–90 % of the life; a rotation hands the new pair on, a failed one keeps the old', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cm-'));
  try {
    let fail = false;
    const rotated: KeyPairPem[] = [];
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, warn(m: string) { warnings.push(m); }, error() {}, child() { return log; } };
    const m = new CertificateManager({ name: 'serving', dir, obtain: async () => { if (fail) throw new Error('signer down'); return issue(); }, onRotate: (p) => rotated.push(p), log });
    const first = await m.start();
    const info = certificateInfo(first.cert);
    const life = info.notAfter.getTime() - info.notBefore.getTime();
    for (let i = 0; i < 20; i++) {
      const at = (m.deadline(first) - info.notBefore.getTime()) / life;
      assert.ok(at >= 0.7 && at <= 0.9, `deadline at ${at} of the life`);
    }
    await m.rotate(true);
    assert.equal(rotated.length, 1);
    assert.notEqual(m.current()!.cert, first.cert);
    fail = true;
    const kept = m.current();
    await m.rotate(true);
    assert.equal(m.current(), kept);
    assert.deepEqual(warnings, ['certificate rotation failed; retrying']);
    m.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
