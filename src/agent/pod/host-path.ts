/**
 * hostPath volume type checks (pkg/volume/hostpath): `DirectoryOrCreate` and `FileOrCreate` create
 * what is missing; `Directory`, `File`, `Socket`, `CharDevice` and `BlockDevice` require it to exist
 * as that kind; '' (the default) checks nothing.
 */
import { promises as fs } from 'node:fs';

/** Resolves when `path` satisfies `type`; rejects with the kubelet's message otherwise. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  const st = await fs.stat(path).catch(() => undefined);
  const fail = (what: string) => {
    throw new Error(`hostPath type check failed: ${path} is not a ${what}`);
  };
  switch (type ?? '') {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!st) {
        await fs.mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!st.isDirectory()) fail('directory');
      return;
    case 'Directory':
      if (!st?.isDirectory()) fail('directory');
      return;
    case 'FileOrCreate':
      if (!st) {
        // Like the kubelet, the parent must already exist.
        await fs.writeFile(path, '', { flag: 'a', mode: 0o644 }).catch(() => fail('file'));
        return;
      }
      if (!st.isFile()) fail('file');
      return;
    case 'File':
      if (!st?.isFile()) fail('file');
      return;
    case 'Socket':
      if (!st?.isSocket()) fail('socket file');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('block device');
      return;
    default:
      throw new Error(`hostPath type check failed: unknown type ${JSON.stringify(type)}`);
  }
}
