/** Builds an {@link ImageRecord} from a platform manifest and its config blob. */
import type { ImageConfigFile, ImageManifest } from './manifest.ts';
import { layerCompression } from './manifest.ts';
import type { ImageRecord } from './image-store.ts';

/**
 * Checks that manifest and config agree (one diffID per layer, supported media types) and
 * returns the record to store. `digest` is the top-level digest (index or manifest).
 */
export function buildImageRecord(
  digest: string,
  manifestDigest: string,
  manifest: ImageManifest,
  configBlob: Buffer,
  repoDigests: string[],
): ImageRecord {
  let cfg: ImageConfigFile;
  try {
    cfg = JSON.parse(configBlob.toString('utf8')) as ImageConfigFile;
  } catch {
    throw new Error(`image config ${manifest.config.digest} is not valid JSON`);
  }
  const diffIDs = cfg.rootfs?.diff_ids ?? [];
  if (diffIDs.length !== manifest.layers.length) {
    throw new Error(`image config lists ${diffIDs.length} diff_ids but the manifest has ${manifest.layers.length} layers`);
  }
  for (const l of manifest.layers) layerCompression(l.mediaType);
  const c = cfg.config ?? {};
  return {
    digest,
    manifestDigest,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((l, i) => ({ digest: l.digest, diffID: diffIDs[i]!, mediaType: l.mediaType, size: l.size })),
    repoDigests,
    config: {
      Entrypoint: c.Entrypoint ?? null,
      Cmd: c.Cmd ?? null,
      Env: c.Env ?? null,
      WorkingDir: c.WorkingDir ?? '',
      User: c.User ?? '',
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      ...(c.Labels ? { Labels: c.Labels } : {}),
      ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    },
    created: new Date().toISOString(),
  };
}
