/**
 * Tile + stitch throughput for a 4096x4096 16-bit image with the paper geometry
 * (identity network), beside a plain copy of the same image as the reference; and the
 * peak memory of tiling and stitching an 8192x8192 image, in copies of that image.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom } from 'rxjs';
import { crop, mirrorPad } from '../src/kernels/mirror.js';
import { createStitcher } from '../src/kernels/stitch.js';
import { tileGrid } from '../src/kernels/tiling.js';
import { makeImage, type Image } from '../src/image/image.js';
import { createRng } from '../src/random.js';
import { mirror } from '../operators/mirror.js';
import { tile } from '../operators/tile.js';
import { stitch } from '../operators/stitch.js';
import { medianSeconds, type Benchmark } from './harness.js';

const geometry = { kind: 'valid', input: 572, output: 388 } as const;

export function noiseImage(size: number): Image<'uint16'> {
  const rng = createRng(7);
  const data = new Uint16Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(65536);
  return makeImage(size, size, 1, 'uint16', data);
}

function kernelsRoundTrip(image: Image): Image {
  const grid = tileGrid(image.height, image.width, geometry);
  const padded = mirrorPad(image, grid.padding);
  const stitcher = createStitcher(grid, 1, image.dtype);
  for (let i = 0; i < grid.count; i++) {
    const r = Math.floor(i / grid.cols.length);
    const c = i % grid.cols.length;
    stitcher.add(i, crop(padded, { y: grid.rows[r], x: grid.cols[c], width: 572, height: 572 }));
  }
  return stitcher.result();
}

export function operatorsRoundTrip(image: Image) {
  const g = { input: geometry.input, output: geometry.output };
  return lastValueFrom(from([{ id: 'bench', source: { path: 'bench.tif' }, image }]).pipe(mirror(g), tile(g), stitch()));
}

export const benchmarks: Benchmark[] = [
  {
    group: 'tiling',
    name: 'tile + stitch, 4096x4096 uint16, 572 -> 388',
    async run() {
      const image = noiseImage(4096);
      const mp = (4096 * 4096) / 1e6;
      const copy = await medianSeconds(() => crop(image, { x: 0, y: 0, width: 4096, height: 4096 }));
      const kernels = await medianSeconds(() => kernelsRoundTrip(image));
      const operators = await medianSeconds(() => operatorsRoundTrip(image), 3);
      const reference = { name: 'plain copy', value: mp / copy };
      return [
        { name: 'tile-stitch-4096-u16', value: mp / kernels, unit: 'MP/s', parameters: { geometry, api: 'kernels' }, reference: { ...reference, ratio: mp / kernels / reference.value } },
        { name: 'tile-stitch-ops-4096-u16', value: mp / operators, unit: 'MP/s', parameters: { geometry, api: 'operators' }, reference: { ...reference, ratio: mp / operators / reference.value } },
      ];
    },
  },
  {
    group: 'tiling',
    name: 'peak memory, 8192x8192 uint16 through mirror -> tile -> stitch',
    async run() {
      // A child process, so the peak RSS is this job's alone.
      const script = join(dirname(fileURLToPath(import.meta.url)), 'tiling-memory.ts');
      const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
      const { copies, peakMiB, imageMiB } = JSON.parse(out) as { copies: number; peakMiB: number; imageMiB: number };
      return [{ name: 'tile-stitch-8192-u16-memory', value: copies, unit: 'image copies', parameters: { peakMiB, imageMiB } }];
    },
  },
];
