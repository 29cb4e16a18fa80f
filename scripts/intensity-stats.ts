/**
 * Records in a model's metadata.json the intensities of the network input it was
 * trained on (`inputIntensity`: 1st and 99.8th percentile and mean of its training
 * images, normalised as the model says), for a model trained before `train` recorded
 * them itself — the shipped one. Prints them; `--write` also stores them, leaving the
 * weights and every other field as they are.
 *
 *   npx tsx scripts/intensity-stats.ts [--write] MODEL_DIR IMAGE...
 *   npx tsx scripts/intensity-stats.ts --write models/isbi2012-em ../shared/data/isbi2012/train/image/{00..19}.png
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toFloat32 } from '../src/image/convert.js';
import { summarise } from '../src/image/intensity.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { readImage } from '../src/io/read.js';
import { readMetadata } from '../src/model/store.js';

const args = process.argv.slice(2);
const write = args[0] === '--write';
const [dir, ...images] = write ? args.slice(1) : args;
if (!dir || images.length === 0) throw new Error('usage: intensity-stats.ts [--write] MODEL_DIR IMAGE...');

const { normalisation } = await readMetadata(dir);
const inputs = await Promise.all(images.map(async (path) => toFloat32(await readImage(path, 0, 'intensity-stats'), normalisation).data));
const all = new Float32Array(inputs.reduce((n, a) => n + a.length, 0));
inputs.reduce((offset, a) => (all.set(a, offset), offset + a.length), 0);
const inputIntensity = { ...summarise(all), values: all.length };
console.log(JSON.stringify(inputIntensity));
if (write) {
  const path = join(dir, 'metadata.json');
  const metadata = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  await writeFileAtomic(path, JSON.stringify({ ...metadata, inputIntensity }, null, 2) + '\n');
  console.log(`${path}: inputIntensity from ${images.length} images`);
}
