/**
 * Builds the web UI (browser code of this folder) into static assets with esbuild: one bundled,
 * minified `app.js` (preact and the rest inside — no CDN), `index.html` and `style.css`. Run by
 * scripts/build.sh (`node --import tsx src/ui/build.ts OUTDIR`); the API server serves the result
 * at /ui/ (src/server/ui/ui-serving.ts). Kubernetes' Dashboard ships as a separate add-on; Berth's
 * is part of the build.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Builds into `outDir` (created); returns the files written. */
export async function buildUi(outDir: string, opts: { minify?: boolean } = {}): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(HERE, 'main.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(HERE, f), join(outDir, f));
  // xterm.js's own style sheet, from the package (no CDN).
  copyFileSync(fileURLToPath(import.meta.resolve('@xterm/xterm/css/xterm.css')), join(outDir, 'xterm.css'));
  copyFileSync(join(dirname(fileURLToPath(import.meta.resolve('uplot'))), 'uPlot.min.css'), join(outDir, 'uplot.css'));
  return ['app.js', 'index.html', 'style.css', 'xterm.css', 'uplot.css'].map((f) => join(outDir, f));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2];
  if (!out) { console.error('usage: build.ts OUTDIR'); process.exit(2); }
  await buildUi(out);
}
