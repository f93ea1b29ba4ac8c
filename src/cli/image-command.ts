/**
 * `berth image import|ls|rm|pull`: the node's image store from the command line (as `ctr images` /
 * `crictl images` are for containerd). It opens the same on-disk store the agent uses — safe while
 * the agent runs (see image-store.ts) — at `<agent data dir>/images`, where the agent data dir is
 * `<--data-dir>/agent` for `berth up` or `--agent-data-dir` for a standalone `berth agent`.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { defaultDataDir } from './defaults.ts';
import type { ImageInfo, ImageService } from '../agent/images/image-service.ts';

interface StoreOpts { dataDir: string; agentDataDir?: string; insecureRegistry?: string[] }

async function openService(o: StoreOpts): Promise<ImageService> {
  const { ImageService } = await import('../agent/images/image-service.ts');
  return ImageService.open(o.agentDataDir ?? join(o.dataDir, 'agent'), { insecureRegistries: o.insecureRegistry });
}

function human(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

/** `crictl images`-style rows: IMAGE, TAG, IMAGE ID, SIZE. */
export function imageRows(images: ImageInfo[]): string[] {
  const rows: string[][] = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const img of images) {
    const id = img.id.replace(/^sha256:/, '').slice(0, 13);
    const names = img.repoTags.length ? img.repoTags : [`${img.repoDigests[0]?.split('@')[0] ?? '<none>'}:<none>`];
    for (const name of names) {
      const at = name.lastIndexOf(':');
      rows.push([name.slice(0, at), name.slice(at + 1), id, human(img.size)]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]! + 3)).join('').trimEnd());
}

const withStore = (cmd: Command) => cmd
  .option('--data-dir <dir>', 'the data dir of `berth up`', defaultDataDir())
  .option('--agent-data-dir <dir>', 'the data dir of a standalone `berth agent` (instead of --data-dir)');

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

export function imageCommand(): Command {
  const image = new Command('image').description("manage the node's images (import, ls, rm, pull)");
  image.addCommand(withStore(new Command('import'))
    .description('load a docker-archive tarball or an OCI layout (directory or tar)')
    .argument('<path>')
    .option('--repository <name>', 'repository for OCI-layout entries named only by a tag')
    .action((path: string, o: StoreOpts & { repository?: string }) => run(async () => {
      const svc = await openService(o);
      const images = await svc.importArchive(path, { repository: o.repository });
      for (const img of images) process.stdout.write(`imported ${img.repoTags.join(', ') || img.id} (${img.id.slice(0, 19)}, ${human(img.size)})\n`);
    })));
  image.addCommand(withStore(new Command('ls'))
    .description('list images')
    .option('-q, --quiet', 'image ids only')
    .action((o: StoreOpts & { quiet?: boolean }) => run(async () => {
      const images = (await openService(o)).list();
      process.stdout.write((o.quiet ? images.map((i) => i.id) : imageRows(images)).join('\n') + '\n');
    })));
  image.addCommand(withStore(new Command('rm'))
    .description('remove images by name, digest or id; unreferenced layers go too')
    .argument('<refs...>')
    .action((refs: string[], o: StoreOpts) => run(async () => {
      const svc = await openService(o);
      for (const ref of refs) {
        await svc.remove(ref);
        process.stdout.write(`deleted ${ref}\n`);
      }
    })));
  image.addCommand(withStore(new Command('pull'))
    .description('pull an image from its registry (plain HTTP for 127.0.0.0/8 and --insecure-registry hosts)')
    .argument('<ref>')
    .option('--insecure-registry <host:port...>', 'registries to reach over plain HTTP')
    .action((ref: string, o: StoreOpts) => run(async () => {
      const svc = await openService(o);
      const t0 = performance.now();
      let bytes = 0;
      const img = await svc.pull(ref, {
        onProgress: (p) => {
          if (p.phase === 'layer' && p.bytes === p.total) { bytes += p.total; process.stdout.write(`  layer ${p.digest.slice(7, 19)} ${human(p.total)}\n`); }
        },
      });
      process.stdout.write(`pulled ${ref} (${img.id.slice(0, 19)}, ${human(img.size)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s${bytes ? '' : ' (already present)'}\n`);
    })));
  return image;
}
