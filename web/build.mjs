// Bundles the web UI with esbuild into one folder the server serves as-is:
//   <out>/index.html, <out>/insights/index.html, <out>/assets/<page>.js, <out>/assets/<page>.css.
// Usage: node build.mjs --out DIR --node-modules DIR
// npm installs into the build tree (web/CMakeLists.txt), so esbuild is loaded from --node-modules and
// bundled libraries are resolved from there too (nodePaths). Nothing is written outside --out.
import { createRequire } from 'node:module';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : fallback;
}

const out = arg('--out', path.join(here, 'dist'));
const nodeModules = arg('--node-modules', path.join(here, 'node_modules'));
const esbuild = createRequire(path.join(nodeModules, 'noop.js'))('esbuild');

// One entry per page: the workbench at / and the dashboard at /insights/.
const pages = [
  { name: 'workbench', entry: 'src/workbench/main.js', html: 'src/workbench/index.html', to: 'index.html' },
  { name: 'insights', entry: 'src/insights/main.js', html: 'src/insights/index.html', to: 'insights/index.html' },
];

// Assets of removed pages must not linger; only what this script writes is removed.
await mkdir(out, { recursive: true });
await rm(path.join(out, 'assets'), { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: Object.fromEntries(pages.map((p) => [`assets/${p.name}`, p.entry])),
  outdir: out,
  bundle: true,
  format: 'esm',
  splitting: true,
  chunkNames: 'assets/chunk-[hash]',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: 'linked',
  nodePaths: [nodeModules],
  logLevel: 'warning',
  metafile: true,
  legalComments: 'linked',
});

for (const p of pages) {
  const dest = path.join(out, p.to);
  await mkdir(path.dirname(dest), { recursive: true });
  await copyFile(path.join(here, p.html), dest);
}

const bytes = Object.entries(result.metafile.outputs)
  .filter(([f]) => !f.endsWith('.map'))
  .reduce((n, [, o]) => n + o.bytes, 0);
console.log(`web: ${pages.length} page(s), ${Math.round(bytes / 1024)} KiB of assets in ${out}`);
