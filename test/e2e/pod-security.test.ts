/**
 * Pod Security admission against a real `bin/berth server` and real kubectl (no pod runs:
 * admission alone decides). The issue's acceptance — a namespace labelled
 * pod-security.kubernetes.io/enforce=baseline refuses a root process pod and a privileged runc pod
 * with Kubernetes' message and admits a process pod with runAsUser: 1000 — plus warn mode's
 * `Warning:` lines, restricted, pod templates, label validation, and the existing-pods warning.
 * Run: node --import tsx --test test/e2e/pod-security.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { waitFor } from '../support/wait.ts';

const ROOT_PROCESS = `host process (container "c" runs on the host's file system as root: set runAsUser to a non-zero uid and allowPrivilegeEscalation=false, or run it under runtimeClassName: runc)`;

const podYaml = (name: string, ns: string, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns },
  spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'], ...container }], ...spec },
});

describe('pod security admission (kubectl, real server)', () => {
  let berth: BerthServer;
  const k = (args: string[], input?: string) => berth.kubectl(args, { input });
  const ok = async (args: string[], input?: string) => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** A namespace whose `default` ServiceAccount exists (pods need it; the controller makes it a moment later). */
  const namespace = async (name: string) => {
    await ok(['create', 'namespace', name]);
    await waitForServiceAccount(name);
  };
  const waitForServiceAccount = (ns: string) => waitFor(`the default ServiceAccount in ${ns}`, async () => (await k(['get', 'serviceaccount', 'default', '-n', ns])).code === 0, 30_000, () => berth.logs());

  before(async () => {
    // Exemptions come from DATA/pod-security.yaml, read at start.
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-e2e-psa-'));
    writeFileSync(join(dataDir, 'pod-security.yaml'), [
      'apiVersion: pod-security.admission.config.k8s.io/v1',
      'kind: PodSecurityConfiguration',
      'exemptions:',
      '  namespaces: [psa-exempt]',
      '  runtimeClasses: [trusted]',
    ].join('\n'));
    berth = await startBerth({ dataDir });
  });
  after(async () => {
    assert.equal(berth.lastExit(), undefined, berth.logs());
    await berth.cleanup();
  });

  it('enforce=baseline refuses a root process pod and a privileged runc pod with Kubernetes\' message, admits runAsUser: 1000', async () => {
    await namespace('psa-baseline');
    await ok(['label', 'namespace', 'psa-baseline', 'pod-security.kubernetes.io/enforce=baseline']);

    const root = await k(['apply', '-f', '-'], podYaml('root', 'psa-baseline'));
    assert.notEqual(root.code, 0);
    assert.equal(root.stderr.trim(), `Error from server (Forbidden): error when creating "STDIN": pods "root" is forbidden: violates PodSecurity "baseline:latest": ${ROOT_PROCESS}`);

    const priv = await k(['apply', '-f', '-'], podYaml('priv', 'psa-baseline', { runtimeClassName: 'runc' }, { image: 'busybox', securityContext: { privileged: true } }));
    assert.notEqual(priv.code, 0);
    assert.equal(priv.stderr.trim(), 'Error from server (Forbidden): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)');

    // kubectl run (its own body, sent as kubectl builds it) is refused alike.
    const run = await k(['run', 'runner', '-n', 'psa-baseline', '--image=host', '--', 'sleep', '1']);
    assert.match(run.stderr, /pods "runner" is forbidden: violates PodSecurity "baseline:latest": host process \(container "runner" runs on the host's file system as root/);

    const user = await ok(['apply', '-f', '-'], podYaml('user', 'psa-baseline', { securityContext: { runAsUser: 1000 } }));
    assert.match(user.stdout, /pod\/user created/);
    assert.equal(user.stderr, '');
    await ok(['apply', '-f', '-'], podYaml('container', 'psa-baseline', { runtimeClassName: 'runc' }, { image: 'busybox' }));
    const names = (await ok(['get', 'pods', '-n', 'psa-baseline', '-o', 'name'])).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['pod/container', 'pod/user']);
    // Server-side dry run is judged too.
    const dry = await k(['apply', '--dry-run=server', '-f', '-'], podYaml('dry', 'psa-baseline'));
    assert.match(dry.stderr, /pods "dry" is forbidden: violates PodSecurity/);
  });

  it('warn gives kubectl Warning: lines and admits; a Deployment is warned about, never refused', async () => {
    await namespace('psa-warn');
    await ok(['label', 'namespace', 'psa-warn', 'pod-security.kubernetes.io/warn=restricted', 'pod-security.kubernetes.io/warn-version=v1.32']);
    const r = await ok(['apply', '-f', '-'], podYaml('p', 'psa-warn', { runtimeClassName: 'runc' }, { image: 'busybox' }));
    assert.match(r.stdout, /pod\/p created/);
    assert.equal(r.stderr.trim(), 'Warning: would violate PodSecurity "restricted:v1.32": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")');
    await ok(['label', 'namespace', 'psa-warn', 'pod-security.kubernetes.io/enforce=restricted']);
    const d = await ok(['create', 'deployment', 'web', '-n', 'psa-warn', '--image=host', '--', 'sleep', '1']);
    assert.match(d.stdout, /deployment.apps\/web created/);
    // kubectl names the container after the image; baseline's reasons come first, as upstream orders them.
    assert.match(d.stderr, /^Warning: would violate PodSecurity "restricted:v1.32": host process \(container "host" runs on the host's file system as root: .*\), allowPrivilegeEscalation != false \(container "host" must set/m);
  });

  it('restricted: a hardened process pod passes; what is missing is listed', async () => {
    await namespace('psa-restricted');
    await ok(['label', 'namespace', 'psa-restricted', 'pod-security.kubernetes.io/enforce=restricted']);
    const bare = await k(['apply', '-f', '-'], podYaml('bare', 'psa-restricted', { securityContext: { runAsUser: 1000 } }));
    assert.match(bare.stderr, /pods "bare" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "c" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities/);
    const hardened = {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    };
    const r = await ok(['apply', '-f', '-'], podYaml('hardened', 'psa-restricted', hardened, { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }));
    assert.equal(r.stderr, '');
    const hostPath = await k(['apply', '-f', '-'], podYaml('hp', 'psa-restricted', { ...hardened, volumes: [{ name: 'root', hostPath: { path: '/' } }] }, { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }));
    assert.match(hostPath.stderr, /violates PodSecurity "restricted:latest": restricted volume types \(volume "root" uses restricted volume type "hostPath"\)$/m);
  });

  it('labels: a bad level is a 422; a stricter enforce level warns about the pods already there', async () => {
    const bad = await k(['label', 'namespace', 'default', 'pod-security.kubernetes.io/enforce=strict']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The Namespace "default" is invalid: metadata.labels\[pod-security.kubernetes.io\/enforce\]: Invalid value: "strict": must be one of privileged, baseline, restricted/);
    await namespace('psa-existing');
    await ok(['apply', '-f', '-'], podYaml('old-root', 'psa-existing'));
    const r = await ok(['label', 'namespace', 'psa-existing', 'pod-security.kubernetes.io/enforce=baseline']);
    assert.match(r.stdout, /namespace\/psa-existing labeled/);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      'Warning: existing pods in namespace "psa-existing" violate the new PodSecurity enforce level "baseline:latest"',
      'Warning: old-root: host process',
    ]);
    // The pod stays; an update Pod Security does not look at still passes.
    await ok(['label', 'pod', 'old-root', '-n', 'psa-existing', 'touched=yes']);
  });

  it('exempt namespaces and RuntimeClasses (DATA/pod-security.yaml) are not looked at', async () => {
    const created = await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'psa-exempt', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }));
    assert.match(created.stderr, /Warning: namespace "psa-exempt" is exempt from Pod Security, and the policy \(enforce=restricted:latest\) will be ignored/);
    await waitForServiceAccount('psa-exempt');
    await ok(['apply', '-f', '-'], podYaml('root', 'psa-exempt'));
    await ok(['apply', '-f', '-'], podYaml('trusted-root', 'psa-baseline', { runtimeClassName: 'trusted' }));
  });
});
