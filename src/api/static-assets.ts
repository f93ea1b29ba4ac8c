/**
 * Files served under a path prefix from one directory (a web UI's assets), as kube-apiserver's
 * optional UI redirects and Go's http.FileServer do: GET/HEAD only, a content type per extension,
 * `index.html` for a directory, and nothing outside the directory — no `..`, no encoded slashes,
 * no symlink that leads out.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import type { ServerResponse } from 'node:http';
import { errors } from '../errors/index.ts';
import type { Route } from './route-table.ts';
import type { ApiRequest } from './handler-chain.ts';

/** Content types by extension; anything else is served as bytes. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** A route serving `dir` under `prefix` (which ends in `/`, e.g. `/ui/`). */
export function staticAssets(prefix: string, dir: string): Route {
  if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new Error(`static prefix must start and end with '/': ${prefix}`);
  const depth = prefix.split('/').filter(Boolean).length;
  let root: Promise<string> | undefined;
  return {
    path: prefix,
    async handle(r: ApiRequest, res: ServerResponse) {
      const rel = r.target.segments.slice(depth);
      // Segments are decoded: `%2e%2e` and `%2f` arrive here as `..` and `/`.
      if (rel.some((s) => s === '.' || s === '..' || /[/\\\0]/.test(s))) throw errors.notFound('', 'path', r.target.path);
      root ??= realpath(dir);
      const base = await root;
      let file = join(base, ...rel);
      let st = await stat(file).catch(() => undefined);
      if (st?.isDirectory()) {
        file = join(file, 'index.html');
        st = await stat(file).catch(() => undefined);
      }
      if (!st?.isFile()) throw errors.notFound('', 'path', r.target.path);
      const real = await realpath(file);
      if (!real.startsWith(base + sep)) throw errors.notFound('', 'path', r.target.path);
      res.writeHead(200, {
        'Content-Type': contentTypeFor(real), 'Content-Length': st.size,
        'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache',
      });
      if (r.req.method === 'HEAD') { res.end(); return; }
      await new Promise<void>((resolve) => {
        const s = createReadStream(real);
        s.on('error', () => { res.destroy(); resolve(); });
        s.on('end', resolve);
        s.pipe(res);
      });
    },
  };
}
