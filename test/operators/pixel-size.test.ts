import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, map, take, toArray } from 'rxjs';
import { instances } from '../../operators/instances.js';
import { load } from '../../operators/load.js';
import { mirror } from '../../operators/mirror.js';
import { save } from '../../operators/save.js';
import { stitch } from '../../operators/stitch.js';
import { threshold } from '../../operators/threshold.js';
import { tile } from '../../operators/tile.js';
import { ConfigError } from '../../src/errors.js';
import type { RunEvent } from '../../src/events.js';
import { makeImage, type Image } from '../../src/image/image.js';
import { inspectImage, readImage } from '../../src/io/read.js';
import { writeImage } from '../../src/io/write.js';
import type { Sample } from '../../src/sample.js';
import { tempDir } from '../helpers/files.js';
import { pixels } from '../helpers/images.js';

const g = { input: 20, output: 12 };
const size = { y: 0.5, x: 0.25 };

/** 30x17, background 10, two objects at 1000: a 2x2 square at rows 2-3, columns 3-4, and a 3x1 bar at rows 10-12, column 20. */
function objects(): Image<'uint16'> {
  const data = new Uint16Array(30 * 17).fill(10);
  for (const [y, x] of [[2, 3], [2, 4], [3, 3], [3, 4], [10, 20], [11, 20], [12, 20]]) data[y * 30 + x] = 1000;
  return makeImage(30, 17, 1, 'uint16', data);
}

/** Stands in for `unet`: the class-1 probability of each output pixel is 0.9 where the tile's centre is bright. */
function predict(sample: Sample): Sample {
  const m = (g.input - g.output) / 2;
  const p = new Float32Array(g.output * g.output * 2);
  for (let y = 0; y < g.output; y++) {
    for (let x = 0; x < g.output; x++) {
      const bright = sample.image.data[(y + m) * g.input + x + m] > 500;
      p[(y * g.output + x) * 2 + 1] = bright ? 0.9 : 0.1;
      p[(y * g.output + x) * 2] = bright ? 0.1 : 0.9;
    }
  }
  return { ...sample, probabilities: makeImage(g.output, g.output, 2, 'float32', p) };
}

test('a pixel size loaded from a TIFF survives mirror, tile and stitch into every image save writes and into µm measurements', async () => {
  const dir = await tempDir();
  const input = join(dir, 'cells.tif');
  await writeImage(input, objects(), 'tiff', { pixelSize: size });
  const out = join(dir, 'out');
  const [saved] = await lastValueFrom(
    from([input]).pipe(
      load(),
      mirror(g),
      tile(g),
      map(predict),
      stitch(),
      threshold({}),
      instances({}),
      save({ dir: out, outputs: ['image', 'probabilities', 'instances', 'mask', 'measurements'], formats: { instances: 'ome-tiff' } }),
      toArray(),
    ),
  );
  assert.deepEqual(saved.metadata?.pixelSize, size);
  assert.deepEqual((await readdir(out)).sort(), ['cells.image.png', 'cells.instances.ome.tif', 'cells.mask.png', 'cells.measurements.csv', 'cells.probabilities.tif']);
  for (const name of ['cells.probabilities.tif', 'cells.instances.ome.tif']) {
    assert.deepEqual((await inspectImage(join(out, name))).calibration, { pixelSize: size, problems: [] }, name);
  }
  assert.match(await readFile(join(out, 'cells.instances.ome.tif'), 'latin1'), /<OME /);
  assert.deepEqual((await inspectImage(join(out, 'cells.mask.png'))).calibration, { pixelSize: size, problems: [] });
  assert.deepEqual(pixels(await readImage(join(out, 'cells.instances.ome.tif'))).filter((v) => v > 0), [1, 1, 1, 1, 2, 2, 2]);

  const csv = (await readFile(join(out, 'cells.measurements.csv'), 'utf8')).trim().split('\n');
  assert.deepEqual(csv, [
    'id,area,centroid_y,centroid_x,min_y,min_x,max_y,max_x,mean_intensity,area_um2,centroid_y_um,centroid_x_um',
    // 4 px x 0.125 µm²; centroid (2.5, 3.5) px x (0.5, 0.25) µm
    '1,4,2.500,3.500,2,3,3,4,1000,0.5,1.25,0.875',
    '2,3,11,20,10,20,12,20,1000,0.375,5.5,5',
  ]);
});

test('tiles saved without stitch carry their parent image\'s pixel size', async () => {
  const dir = await tempDir();
  const input = join(dir, 'cells.tif');
  await writeImage(input, objects(), 'tiff', { pixelSize: size });
  const out = join(dir, 'tiles');
  await lastValueFrom(from([input]).pipe(load(), tile({ size: 16, overlap: 4 }), take(1), save({ dir: out, outputs: ['image'], formats: { image: 'tiff' } }), toArray()));
  const [name] = await readdir(out);
  assert.deepEqual((await inspectImage(join(out, name))).calibration, { pixelSize: size, problems: [] });
});

test('load\'s pixelSize overrides the file\'s, through to the PNG save writes', async () => {
  const dir = await tempDir();
  const input = join(dir, 'cells.tif');
  await writeImage(input, objects(), 'tiff', { pixelSize: size });
  const [sample] = await lastValueFrom(from([input]).pipe(load({ pixelSize: [0.65, 0.65] }), save({ dir, outputs: ['image'] }), toArray()));
  assert.deepEqual(sample.metadata?.pixelSize, { y: 0.65, x: 0.65 });
  assert.deepEqual((await inspectImage(join(dir, 'cells.image.png'))).calibration, { pixelSize: { y: 0.65, x: 0.65 }, problems: [] });
});

test('load refuses a pixelSize that is not two positive numbers when it is created', () => {
  for (const bad of [[0, 1], [-0.5, 0.5], [0.5], [0.5, 'x'], [NaN, 1]]) {
    assert.throws(() => load({ pixelSize: bad as never }), (e: unknown) => e instanceof ConfigError && /load: invalid parameters/.test(e.message) && /pixelSize/.test(e.message), JSON.stringify(bad));
  }
});

/** Writes a calibrated TIFF, then edits its description in place (same length, so the TIFF's offsets still hold). */
async function edited(path: string, from: string, to: string): Promise<string> {
  await writeImage(path, objects(), 'tiff', { pixelSize: size });
  const text = (await readFile(path)).toString('latin1');
  assert.ok(text.includes(from) && from.length === to.length);
  await writeFile(path, Buffer.from(text.replace(from, to), 'latin1'));
  return path;
}

async function loaded(path: string, params = {}): Promise<{ sample: Sample; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const [sample] = await lastValueFrom(from([path]).pipe(load(params, { step: 'steps[0].load', emit: (e) => events.push(e) }), toArray()));
  return { sample, events };
}

test('a file whose pixel size is in an unknown unit loads uncalibrated, with a warning naming the file, the step and the unit', async () => {
  const dir = await tempDir();
  const input = await edited(join(dir, 'parsec.tif'), 'unit=micron', 'unit=parsec');
  const { sample, events } = await loaded(input);
  assert.equal(sample.metadata?.pixelSize, undefined);
  assert.equal(events.length, 1);
  const event = events[0] as Extract<RunEvent, { type: 'log' }>;
  assert.deepEqual([event.type, event.level, event.file], ['log', 'warn', input]);
  assert.match(
    event.message,
    /^steps\[0\]\.load: .*parsec\.tif: the pixel size the file records: its ImageJ description names the unit 'parsec', which unetflow does not know: .* — the image stays uncalibrated: give load a pixelSize: \[y, x\] in micrometres/,
  );
  // A pixelSize given to load settles it without a warning.
  const given = await loaded(input, { pixelSize: [1, 1] });
  assert.deepEqual([given.sample.metadata?.pixelSize, given.events], [{ y: 1, x: 1 }, []]);
});

test('an OME-TIFF whose OME-XML says 0 falls back to its resolution tags, with a warning saying so', async () => {
  const dir = await tempDir();
  const input = await edited(join(dir, 'zero.ome.tif'), 'PhysicalSizeX="0.25"', 'PhysicalSizeX="0.00"');
  const { sample, events } = await loaded(input);
  assert.deepEqual(sample.metadata?.pixelSize, size);
  assert.equal(events.length, 1);
  assert.match(
    (events[0] as Extract<RunEvent, { type: 'log' }>).message,
    /zero\.ome\.tif: the pixel size the file records: its OME-XML \(PhysicalSizeY="0\.5", PhysicalSizeX="0\.00"\) gives no usable pixel size: expected positive numbers — using y 0\.5 µm, x 0\.25 µm$/,
  );
});
