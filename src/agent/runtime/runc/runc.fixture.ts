/**
 * Test fixture: a busybox image (every applet linked in /bin, an /etc/passwd and /etc/group with a
 * non-root user) built with umoci and imported into an ImageService store in a temp data dir.
 * For tests and the benchmark only.
 */
import { chmod, cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ImageService } from '../../images/image-service.ts';
import { sh } from '../../images/test-image.fixture.ts';

export const TEST_IMAGE = 'runc-test.local/busybox:v1';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n';

/** Builds the image in `workDir` and imports it into a new ImageService on `dataDir`. */
export async function busyboxImageService(workDir: string, dataDir: string): Promise<ImageService> {
  const layout = await buildBusyboxLayout(workDir);
  const svc = await ImageService.open(dataDir);
  const [img] = await svc.importArchive(layout, { repository: 'runc-test.local/busybox' });
  if (!img?.repoTags.includes(TEST_IMAGE)) throw new Error(`fixture: import gave ${JSON.stringify(img?.repoTags)}`);
  return svc;
}

/**
 * Builds the busybox image as tag `v1` of the OCI layout `<workDir>/oci` (returned). Its config:
 * Entrypoint `/bin/sh -c`, a Cmd that prints `image-cmd`, the uid, the cwd and two env vars;
 * WorkingDir /srv (holding hello.txt); User `app` (uid 1000).
 */
export async function buildBusyboxLayout(workDir: string): Promise<string> {
  const layout = join(workDir, 'oci');
  const bundle = join(workDir, 'bundle');
  await sh('umoci', ['init', '--layout', layout]);
  await sh('umoci', ['new', '--image', `${layout}:v1`]);
  await sh('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  for (const d of ['bin', 'etc', 'root', 'tmp', 'home/app', 'srv']) await mkdir(join(rootfs, d), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await cp('/bin/busybox', join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) await symlink('busybox', join(rootfs, 'bin', a));
  await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
  await writeFile(join(rootfs, 'etc/group'), GROUP);
  await writeFile(join(rootfs, 'srv/hello.txt'), 'hello from the image\n');
  await sh('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
  await rm(bundle, { recursive: true, force: true });
  await sh('umoci', [
    'config',
    '--image',
    `${layout}:v1`,
    '--config.entrypoint',
    '/bin/sh',
    '--config.entrypoint',
    '-c',
    '--config.cmd',
    'echo image-cmd; id -u; pwd; echo $GREETING $FROM_IMAGE',
    '--config.env',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    '--config.env',
    'GREETING=hello-from-image',
    '--config.env',
    'FROM_IMAGE=yes',
    '--config.workingdir',
    '/srv',
    '--config.user',
    'app',
  ]);
  return layout;
}

