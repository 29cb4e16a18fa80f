/** Images of a pixel or a few, and one pixel wide or high, go through every step of the demo pipeline and of mirror, tile and stitch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { readImage } from '../../src/io/read.js';
import { tempDir } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');
const MODEL = resolve('models/isbi2012-em');
const SIZES = [[1, 1], [2, 2], [3, 3], [1, 40], [40, 1]] as const;

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

/** A grey PNG per size, `w<W>h<H>.png`, with distinct values so that a swapped or mirrored pixel shows; its pixels by name. */
async function tinyImages(dir: string): Promise<Map<string, Buffer>> {
  await mkdir(join(dir, 'in'));
  const pixels = new Map<string, Buffer>();
  for (const [width, height] of SIZES) {
    const data = Buffer.from(Array.from({ length: width * height }, (_, i) => (40 + i * 5) % 256));
    const name = `w${width}h${height}`;
    await sharp(data, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, 'in', `${name}.png`));
    pixels.set(name, data);
  }
  return pixels;
}

const yaml = (steps: string[]) => ['version: 1', 'name: tiny', 'source: { files: in }', 'steps:', ...steps.map((s) => `  - ${s}`), ''].join('\n');

test('the demo pipeline segments 1x1, 2x2, 3x3, 1x40 and 40x1 images, each output the size of its input', { timeout: 180_000 }, async () => {
  const dir = await tempDir('unetflow-tiny-');
  const pixels = await tinyImages(dir);
  // The demo's steps (pipelines/demo.yaml), with the shipped model, plus the outputs it does not write.
  await writeFile(
    join(dir, 'p.yaml'),
    yaml([
      'load: { channels: 1 }',
      `mirror: { model: ${JSON.stringify(MODEL)} }`,
      `tile: { model: ${JSON.stringify(MODEL)} }`,
      `unet: { model: ${JSON.stringify(MODEL)}, tta: dihedral }`,
      'stitch: {}',
      'watershed: { class: 1, at: 0.1, seeds: 0.8, minSeedArea: 50 }',
      'save: { dir: out, outputs: [mask, probabilities, overlay, instances, measurements] }',
    ]),
  );
  const run = cli(['run', join(dir, 'p.yaml'), '--workers', '1']);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`${SIZES.length} done, 0 failed`));
  for (const [width, height] of SIZES) {
    const name = `w${width}h${height}`;
    assert.ok(pixels.has(name));
    for (const output of ['mask.png', 'probabilities.tif', 'overlay.png', 'instances.tif']) {
      const meta = await sharp(join(dir, 'out', `${name}.${output}`)).metadata();
      assert.deepEqual([meta.width, meta.height], [width, height], `${name}.${output}`);
    }
    const probabilities = await readImage(join(dir, 'out', `${name}.probabilities.tif`), 1);
    assert.deepEqual([probabilities.dtype, probabilities.data.length], ['float32', width * height], name);
    assert.ok(probabilities.data.every((v) => v >= 0 && v <= 1), `${name}: probabilities in [0, 1]`);
  }
});

test('mirror, tile and stitch give back 1x1, 2x2, 3x3, 1x40 and 40x1 images exactly, for valid and same-padded tiles, in both mirror modes', { timeout: 120_000 }, async () => {
  const dir = await tempDir('unetflow-tiny-');
  const pixels = await tinyImages(dir);
  const geometries = ['input: 572, output: 388', 'input: 204, output: 20', 'size: 64, overlap: 16', 'size: 16, overlap: 8'];
  for (const geometry of geometries) {
    for (const mode of ['reflect', 'symmetric']) {
      const out = `out-${geometries.indexOf(geometry)}-${mode}`;
      await writeFile(join(dir, 'p.yaml'), yaml(['load: { channels: 1 }', `mirror: { ${geometry}, mode: ${mode} }`, `tile: { ${geometry} }`, 'stitch: { field: image }', `save: { dir: ${out}, outputs: [image] }`]));
      const run = cli(['run', join(dir, 'p.yaml')]);
      assert.equal(run.status, 0, `${geometry} ${mode}: ${run.stdout}${run.stderr}`);
      for (const [name, data] of pixels) {
        // libvips gives a 1x1 grey image as sRGB unless asked for its one channel.
        const back = await sharp(join(dir, out, `${name}.image.png`)).extractChannel(0).raw().toBuffer();
        assert.deepEqual(back, data, `${geometry} ${mode}: ${name}`);
      }
    }
  }
});
