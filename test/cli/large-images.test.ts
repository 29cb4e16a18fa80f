/**
 * Images over sharp's default pixel limit (268 megapixels, 0x3FFF²) are saved in every
 * output format, not refused at `save` after all the processing. One 16,500 x 16,500
 * 8-bit PNG (272 MP), black with three white squares: 270 KB on disk. No U-Net runs: a
 * small module (`use:`) turns the image into a mask or a probability map. Cost, measured
 * on 2 shared cores: about 45 s, and 2.9 GB at the peak (the mask run, whose `instances`
 * step holds 32-bit labels while it works).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');
const SIDE = 16_500;
/** [top, left, side] of the white squares. */
const SQUARES = [[100, 100, 50], [8000, 8000, 400], [16_000, 200, 300]] as const;

const big = { limitInputPixels: false } as const;

async function project() {
  const dir = await tempDir('unetflow-large-');
  await mkdir(join(dir, 'in'));
  const data = Buffer.alloc(SIDE * SIDE);
  for (const [top, left, side] of SQUARES) for (let y = top; y < top + side; y++) data.fill(255, y * SIDE + left, y * SIDE + left + side);
  await sharp(data, { raw: { width: SIDE, height: SIDE, channels: 1 }, ...big }).toColourspace('b-w').png().toFile(join(dir, 'in', 'big.png'));
  // The module imports io-ts and rxjs as a user's would: through a node_modules beside it.
  await symlink(resolve('node_modules'), join(dir, 'node_modules'));
  await writeFile(
    join(dir, 'from-image.mjs'),
    `import * as t from 'io-ts';
     import { map } from 'rxjs';
     export default {
       name: 'from-image',
       params: t.type({ as: t.keyof({ mask: null, probabilities: null }) }),
       create: ({ as }) => map((s) => {
         const { width, height, data } = s.image;
         const out = as === 'mask' ? new Uint8Array(data.length) : new Float32Array(data.length);
         for (let i = 0; i < data.length; i++) out[i] = as === 'mask' ? (data[i] > 127 ? 1 : 0) : data[i] / 255;
         return { ...s, [as]: { width, height, channels: 1, dtype: as === 'mask' ? 'uint8' : 'float32', data: out } };
       }),
     };\n`,
  );
  return dir;
}

function run(dir: string, as: 'mask' | 'probabilities', steps: string[], outputs: string[]) {
  const pipeline = ['version: 1', 'name: large', 'use: ./from-image.mjs', 'source: { files: in }', 'steps:', '  - load: { channels: 1 }', `  - from-image: { as: ${as} }`, ...steps.map((s) => `  - ${s}`), `  - save: { dir: out, outputs: [${outputs.join(', ')}] }`, ''];
  return writeFile(join(dir, `${as}.yaml`), pipeline.join('\n')).then(() => spawnSync(process.execPath, [BIN, 'run', join(dir, `${as}.yaml`)], { encoding: 'utf8' }));
}

/** The pixels of a small window of a large output, decoded as a stream (not the whole image); `grey`: its first channel (libvips widens grey to sRGB here). */
async function window(path: string, left: number, top: number, width: number, height: number, grey = false, depth?: 'float') {
  const cut = sharp(path, big).extract({ left, top, width, height });
  const { data, info } = await (grey ? cut.extractChannel(0) : cut).raw(depth ? { depth } : {}).toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels };
}

test('a 272-megapixel image is saved as mask and overlay PNG, instances TIFF, measurements and probabilities TIFF', { timeout: 600_000 }, async () => {
  const dir = await project();
  const masks = await run(dir, 'mask', ['instances: {}'], ['mask', 'overlay', 'instances', 'measurements']);
  assert.equal(masks.status, 0, masks.stdout + masks.stderr);
  const probabilities = await run(dir, 'probabilities', [], ['probabilities']);
  assert.equal(probabilities.status, 0, probabilities.stdout + probabilities.stderr);

  for (const output of ['mask.png', 'overlay.png', 'instances.tif', 'probabilities.tif']) {
    const meta = await sharp(join(dir, 'out', `big.${output}`), big).metadata();
    assert.deepEqual([meta.width, meta.height], [SIDE, SIDE], output);
  }
  // Around the middle square's top-left corner (8000, 8000): one pixel outside, then inside.
  const mask = await window(join(dir, 'out', 'big.mask.png'), 7999, 7999, 2, 2, true);
  assert.deepEqual([...mask.data], [0, 0, 0, 255]);
  const overlay = await window(join(dir, 'out', 'big.overlay.png'), 7999, 8001, 3, 1);
  assert.equal(overlay.channels, 3);
  // On the square's second row: black outside, gold on its outline, white inside.
  assert.deepEqual([...overlay.data], [0, 0, 0, 255, 215, 0, 255, 255, 255]);
  assert.equal((await sharp(join(dir, 'out', 'big.probabilities.tif'), big).metadata()).depth, 'float');
  const probability = await window(join(dir, 'out', 'big.probabilities.tif'), 7999, 8000, 2, 1, true, 'float');
  assert.deepEqual([...new Float32Array(Uint8Array.from(probability.data).buffer)], [0, 1]);
  // The squares, by hand: area, centroid, bounding box, mean intensity.
  const rows = (await readFile(join(dir, 'out', 'big.measurements.csv'), 'utf8')).trim().split('\n');
  assert.deepEqual(rows, [
    'id,area,centroid_y,centroid_x,min_y,min_x,max_y,max_x,mean_intensity',
    ...SQUARES.map(([top, left, side], i) => [i + 1, side * side, (top + (side - 1) / 2).toFixed(3), (left + (side - 1) / 2).toFixed(3), top, left, top + side - 1, left + side - 1, 255].join(',')),
  ]);
});
