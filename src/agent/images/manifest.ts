/** OCI / Docker v2 manifest, index and image-config shapes, media types and platform selection. */

/** Media types the puller understands. */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Accept header value for manifest GETs, in order of preference. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerList,
  MediaType.dockerManifest,
].join(', ');

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

/** An image manifest (OCI or Docker v2 schema 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** An image index / manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** The runtime part of an image config that a container driver needs. */
export interface ContainerConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
}

/** An image configuration blob. */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
}

/** Platform to pick from an index. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The platform of this machine in OCI terms (linux/amd64 on x86-64). */
export function hostPlatform(): Platform {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[
    process.arch
  ];
  return { os: 'linux', architecture: arch ?? process.arch };
}

/** True for index / manifest-list media types. */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerList;
}

/** Parses a manifest document; `mediaType` is the Content-Type when the body has none. */
export function parseManifestDocument(
  body: Buffer,
  contentType?: string,
): { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest } {
  let doc: { mediaType?: string; manifests?: unknown; config?: unknown; layers?: unknown; schemaVersion?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('manifest is not valid JSON');
  }
  const mt = doc.mediaType ?? contentType?.split(';')[0]?.trim();
  if (doc.schemaVersion !== 2) throw new Error(`unsupported manifest schemaVersion ${String(doc.schemaVersion)}`);
  if (isIndexType(mt) || (mt === undefined && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw new Error('index has no manifests');
    return { kind: 'index', index: doc as ImageIndex };
  }
  if (!doc.config || !Array.isArray(doc.layers)) throw new Error(`unsupported manifest media type ${mt ?? '(none)'}`);
  return { kind: 'manifest', manifest: doc as ImageManifest };
}

/** Picks the manifest for `platform` from an index; throws naming the platforms on offer otherwise. */
export function selectPlatform(index: ImageIndex, platform: Platform = hostPlatform()): Descriptor {
  const candidates = index.manifests.filter(
    (d) =>
      !isIndexType(d.mediaType) &&
      d.platform?.os === platform.os &&
      d.platform?.architecture === platform.architecture &&
      (!platform.variant || d.platform?.variant === platform.variant),
  );
  const found = candidates[0];
  if (!found) {
    const offered = index.manifests
      .map((d) => (d.platform ? `${d.platform.os}/${d.platform.architecture}` : '?'))
      .join(', ');
    throw new Error(`no manifest for ${platform.os}/${platform.architecture} in index (has: ${offered || 'none'})`);
  }
  return found;
}

/** Layer compression implied by a layer media type. */
export function layerCompression(mediaType: string): 'none' | 'gzip' | 'zstd' {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  if (mediaType.endsWith('gzip')) return 'gzip';
  if (mediaType.endsWith('.tar') || mediaType === 'application/vnd.docker.image.rootfs.diff.tar') return 'none';
  throw new Error(`unsupported layer media type ${mediaType}`);
}
