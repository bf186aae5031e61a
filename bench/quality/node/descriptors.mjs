#!/usr/bin/env node
// Independent face recognizer for bench/quality (second opinion next to the
// project's own recognizer). Computes 128-d face-api.js FaceRecognitionNet
// descriptors (the dlib ResNet-34 face_recognition model ported to TF.js) on
// the pure-JS TF.js CPU backend. No native modules, no canvas.
//
//   node descriptors.mjs [--models DIR] [--crop F] [--quiet] OUT.json CHIP1.png [CHIP2.png ...]
//
//   --models DIR  face-api weights dir holding face_recognition_model-weights_manifest.json
//                 (default: node_modules/@vladmandic/face-api/model of the install)
//   --crop F      feed only the central F x F part of each chip (0 < F <= 1, default 1 =
//                 the whole chip). face-api.js was used on crops where the 68-landmark
//                 box fills ~83% of the crop (landmark box padded by 20%); on chips where
//                 the face fills ~75% of the chip, --crop 0.8 approximates that framing
//                 and separates same/different people better (face-api threshold 0.6).
//
// OUT.json: {"model": "<name+versions>", "descriptors": {"<arg as given>": [128 floats], ...}}
//
// Inputs are already-cropped, upright face chips (PNG, ideally square, face
// filling roughly the central 70-80%). Each chip goes straight into
// faceRecognitionNet.computeFaceDescriptor as an RGB float tensor [H,W,3] with
// values 0..255; there is no detection/alignment step here. face-api.js itself
// then zero-pads non-square inputs to a centred square, resizes bilinearly to
// 150x150 (tf.image.resizeBilinear, no antialiasing), subtracts the mean RGB
// (122.782, 117.001, 104.298) and divides by 256.
// Compare descriptors with Euclidean distance; face-api's usual same-person
// threshold is 0.6.
//
// Packages are resolved from (first hit): $QUALITY_NODE_DIR, this script's
// folder, <repo>/build/quality-node (where setup.sh installs them).
// Weights default to node_modules/@vladmandic/face-api/model (the face-api.js
// npm package does not ship its weights; @vladmandic/face-api ships the same
// face_recognition_model: identical manifest, and its .bin ends with bytes
// identical to face-api.js's weights/face_recognition_model-shard2 — the
// original two shards concatenated). --models also accepts face-api.js's own
// weights/ folder (shard1 + shard2 + manifest).

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  if (msg) process.stderr.write(`descriptors.mjs: ${msg}\n`);
  process.stderr.write(
    'usage: node descriptors.mjs [--models DIR] [--crop F] [--quiet] OUT.json CHIP1.png [CHIP2.png ...]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { models: null, crop: 1, quiet: false, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--models') {
      if (i + 1 >= argv.length) usage('--models needs a directory');
      opts.models = argv[++i];
    } else if (a.startsWith('--models=')) {
      opts.models = a.slice('--models='.length);
    } else if (a === '--crop' || a.startsWith('--crop=')) {
      const v = a === '--crop' ? argv[++i] : a.slice('--crop='.length);
      opts.crop = Number(v);
      if (!(opts.crop > 0 && opts.crop <= 1)) usage(`--crop wants 0 < F <= 1, got ${v}`);
    } else if (a === '--quiet' || a === '-q') {
      opts.quiet = true;
    } else if (a === '--help' || a === '-h') {
      usage();
    } else if (a === '--') {
      opts.positional.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('--')) {
      usage(`unknown option ${a}`);
    } else {
      opts.positional.push(a);
    }
  }
  if (opts.positional.length < 2) usage('need OUT.json and at least one chip');
  return opts;
}

// Folder whose node_modules holds face-api.js, pngjs and @vladmandic/face-api.
function findInstallDir() {
  const candidates = [];
  if (process.env.QUALITY_NODE_DIR) candidates.push(process.env.QUALITY_NODE_DIR);
  candidates.push(HERE);
  candidates.push(path.resolve(HERE, '..', '..', '..', 'build', 'quality-node'));
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'node_modules', 'face-api.js', 'package.json'))) return dir;
  }
  process.stderr.write(
    'descriptors.mjs: face-api.js not installed; run bench/quality/node/setup.sh ' +
    `(looked in: ${candidates.join(', ')})\n`);
  process.exit(3);
}

function pkgVersion(dir, name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

// Decode a PNG into an RGB float32 tensor [H, W, 3], values 0..255 (no
// normalisation: face-api.js does that itself). pngjs expands palette, grey
// and 16-bit images to 8-bit RGBA; alpha is dropped (not composited).
// crop < 1 keeps only the central crop*min(W,H) square.
function chipTensor(tf, PNG, file, crop) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const { width, height, data } = png;
  let w = width, h = height, x0 = 0, y0 = 0;
  if (crop < 1) {
    w = h = Math.max(1, Math.round(crop * Math.min(width, height)));
    x0 = Math.floor((width - w) / 2);
    y0 = Math.floor((height - h) / 2);
  }
  const rgb = new Float32Array(w * h * 3);
  let o = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0, q = (y * width + x0) * 4; x < x0 + w; x++, q += 4) {
      rgb[o++] = data[q];
      rgb[o++] = data[q + 1];
      rgb[o++] = data[q + 2];
    }
  }
  return { tensor: tf.tensor3d(rgb, [h, w, 3], 'float32'), width, height, w, h };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const [outPath, ...chips] = opts.positional;
  const installDir = findInstallDir();
  const require = createRequire(path.join(installDir, 'package.json'));

  // tfjs-core prints a "use tfjs-node" banner on first use under Node; drop it.
  const origWarn = console.warn;
  console.warn = (...args) => {
    if (typeof args[0] === 'string' && args[0].includes('Looks like you are running TensorFlow.js in Node.js')) return;
    origWarn(...args);
  };

  const faceapi = require('face-api.js');
  const { PNG } = require('pngjs');
  const tf = faceapi.tf;
  await tf.setBackend('cpu');
  await tf.ready();

  const modelsDir = path.resolve(opts.models ?? path.join(installDir, 'node_modules', '@vladmandic', 'face-api', 'model'));
  const manifest = path.join(modelsDir, 'face_recognition_model-weights_manifest.json');
  if (!fs.existsSync(manifest)) {
    process.stderr.write(`descriptors.mjs: no ${manifest}\n`);
    process.exit(3);
  }
  const net = faceapi.nets.faceRecognitionNet;
  await net.loadFromDisk(modelsDir);

  const weightsFrom = opts.models
    ? `weights ${modelsDir}`
    : `weights @vladmandic/face-api@${pkgVersion(installDir, '@vladmandic/face-api')}/model`;
  const model = `face-api.js@${pkgVersion(installDir, 'face-api.js')} FaceRecognitionNet ` +
    `(dlib ResNet-34 face_recognition port, 128-d, 150x150 RGB input; ${weightsFrom}; ` +
    `tfjs-core@${tf.version_core} ${tf.getBackend()} backend` +
    (opts.crop < 1 ? `; input = central ${opts.crop} of each chip)` : ')');

  const descriptors = {};
  let total = 0;
  for (const file of chips) {
    let t;
    try {
      t = chipTensor(tf, PNG, file, opts.crop);
    } catch (e) {
      process.stderr.write(`descriptors.mjs: cannot read ${file}: ${e.message}\n`);
      process.exit(4);
    }
    if (t.w !== t.h && !opts.quiet) {
      process.stderr.write(`descriptors.mjs: warning: ${file} is ${t.width}x${t.height}, ` +
        'not square; face-api.js pads it to a centred square with black\n');
    }
    const t0 = process.hrtime.bigint();
    const d = await net.computeFaceDescriptor(t.tensor);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    t.tensor.dispose();
    total += ms;
    descriptors[file] = Array.from(d);
    if (!opts.quiet) {
      const fed = opts.crop < 1 ? ` (fed central ${t.w}x${t.h})` : '';
      process.stderr.write(`${file}: ${t.width}x${t.height}${fed} ${ms.toFixed(0)} ms\n`);
    }
  }

  const json = JSON.stringify({ model, descriptors });
  const tmp = `${outPath}.tmp${process.pid}`;
  fs.writeFileSync(tmp, json + '\n');
  fs.renameSync(tmp, outPath);
  if (!opts.quiet) {
    process.stderr.write(`wrote ${chips.length} descriptor(s) to ${outPath} ` +
      `(${(total / chips.length).toFixed(0)} ms/chip, ${model})\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`descriptors.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
