import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { openOmeZarr } from '../../../src/io/zarr/read.js';
import { tempDir } from '../../helpers/files.js';

/** Written by zarr-python (Blosc zstd chunks, three levels, a labels/cells image), not by unetflow. */
const STACK = '../shared/data/ome-zarr/isbi-stack.ome.zarr';
const SLICES = '../shared/data/isbi2012/train/image';

test('an OME-Zarr z-stack that zarr-python wrote reads, plane by plane, as the PNG slices it was made from', async () => {
  const image = await openOmeZarr(STACK);
  assert.deepEqual(image.multiscales.axes, ['z', 'y', 'x']);
  assert.deepEqual(image.levels.map((l) => l.shape), [[5, 512, 512], [5, 256, 256], [5, 128, 128]]);
  assert.equal(image.size(0, 'z'), 5);
  assert.equal(image.size(0, 'c'), 1);
  assert.deepEqual(image.pixelSize(0), { y: 0.004, x: 0.004 });
  assert.deepEqual(image.pixelSize(2), { y: 0.016, x: 0.016 });
  for (const z of [0, 4]) {
    const plane = await image.readPlane(0, { t: 0, z });
    const { data } = await sharp(join(SLICES, `0${z}.png`)).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    assert.equal(plane.width, 512);
    assert.equal(plane.dtype, 'uint8');
    assert.deepEqual(Buffer.from(plane.data), data, `plane ${z}`);
  }
  const coarse = await image.readPlane(2, { t: 0, z: 1 });
  assert.equal(coarse.width, 128);
});

test('the label image beside it reads as a label image of the same planes', async () => {
  const labels = await openOmeZarr(join(STACK, 'labels', 'cells'));
  const plane = await labels.readPlane(0, { t: 0, z: 0 });
  assert.deepEqual([...new Set(plane.data)].sort(), [0, 1]);
});

test('planes and channels that do not exist are refused, naming the array', async () => {
  const image = await openOmeZarr(STACK);
  await assert.rejects(image.readPlane(0, { t: 0, z: 5 }), { message: `${STACK}/0: z 5 does not exist: the image has 5` });
  await assert.rejects(image.readPlane(0, { t: 0, z: 0 }, [1]), { message: `${STACK}/0: channel 1 does not exist: the image has 1 channel(s)` });
});

/** A copy of the sample to spoil. */
async function copyOfStack(): Promise<string> {
  const dir = join(await tempDir(), 'stack.ome.zarr');
  await cp(STACK, dir, { recursive: true });
  return dir;
}

test('bad OME-Zarr gets one clear error naming the folder or array and what was expected', async () => {
  const notZarr = await tempDir();
  await assert.rejects(openOmeZarr(notZarr), { message: new RegExp(`^${notZarr}: not a Zarr group .*: expected an OME-Zarr image folder`) });

  const axes = await copyOfStack();
  const attrs = JSON.parse(await readFile(join(axes, '.zattrs'), 'utf8'));
  attrs.multiscales[0].axes[0] = { name: 'angle', type: 'rotation' };
  await writeFile(join(axes, '.zattrs'), JSON.stringify(attrs));
  await assert.rejects(openOmeZarr(axes), { message: `${axes}: axis 0 ('angle', type rotation) cannot be mapped: expected time, channel, or space axes z, y, x` });

  const shape = await copyOfStack();
  const zarray = JSON.parse(await readFile(join(shape, '1', '.zarray'), 'utf8'));
  await writeFile(join(shape, '1', '.zarray'), JSON.stringify({ ...zarray, shape: [256, 256], chunks: [256, 256] }));
  await assert.rejects(openOmeZarr(shape), { message: `${shape}/1: the array has 2 dimensions but the metadata names 3 axes (z, y, x): expected one per axis` });

  const codec = await copyOfStack();
  await writeFile(join(codec, '0', '.zarray'), JSON.stringify({ ...zarray, compressor: { id: 'lzma' } }));
  const opened = await openOmeZarr(codec).catch((e: Error) => e);
  const failure = opened instanceof Error ? opened : await opened.readPlane(0, { t: 0, z: 0 }).catch((e: Error) => e);
  assert.ok(failure instanceof Error);
  assert.match(failure.message, new RegExp(`^${codec}/0: .*lzma`), failure.message);

  const truncated = await copyOfStack();
  const chunk = join(truncated, '0', '1', '0', '0');
  await writeFile(chunk, (await readFile(chunk)).subarray(0, 40));
  await assert.rejects((await openOmeZarr(truncated)).readPlane(0, { t: 0, z: 1 }), { message: new RegExp(`^${truncated}/0: cannot read the plane \\(t 0, z 1, channel 0\\): `) });
});

test('a missing chunk reads as the fill value, as Zarr has it, and is told to the caller', async () => {
  const dir = await copyOfStack();
  await rm(join(dir, '0', '2', '1', '1'));
  const missing: string[] = [];
  const plane = await (await openOmeZarr(dir, { onMissingChunk: (key) => missing.push(key) })).readPlane(0, { t: 0, z: 2 });
  assert.deepEqual(missing, ['0/2/1/1']);
  assert.equal(plane.data[511 * 512 + 511], 0, 'the fill value where the chunk is missing');
  assert.notEqual(plane.data[0], 0);
});
