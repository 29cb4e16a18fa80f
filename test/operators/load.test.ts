import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { load } from '../../operators/load.js';
import { writeImage } from '../../src/io/write.js';
import { ConfigError, SampleError } from '../../src/errors.js';
import { makeImage } from '../../src/image/image.js';
import { pixels, randomImage } from '../helpers/images.js';
import { typedTiff } from '../io/typed-tiff.js';
import { describedTiff } from '../io/described-tiff.js';

const STACK = '../shared/data/dsb2018-nuclei/synthetic-stack.tif';
const tmp = await mkdtemp(join(tmpdir(), 'unetflow-load-'));

test('each page of a multi-page TIFF becomes a sample with the page in its id', async () => {
  const samples = await lastValueFrom(from([STACK]).pipe(load({ pages: [0, 4] }), toArray()));
  assert.deepEqual(samples.map((s) => s.id).sort(), ['synthetic-stack.p0', 'synthetic-stack.p4']);
  const p4 = samples.find((s) => s.id.endsWith('p4'))!;
  assert.deepEqual([p4.source.page, p4.source.pages, p4.image.dtype], [4, 31, 'uint16']);
});

test('a failing file is reported with its name and the next file still loads', async () => {
  const good = join(tmp, 'good.png');
  await writeImage(good, randomImage(8, 8, 1, 'uint8'), 'png');
  const empty = join(tmp, 'empty.png');
  await writeFile(empty, '');
  const failures: SampleError[] = [];
  const samples = await lastValueFrom(
    from([empty, good]).pipe(load({}, { onSampleError: (e) => failures.push(e) }), toArray()),
  );
  assert.deepEqual(samples.map((s) => s.id), ['good']);
  assert.equal(failures.length, 1);
  assert.equal(failures[0].file, empty);
  assert.match(failures[0].message, /^load: .*empty\.png: the file is empty/);
});

test('without an error handler a failing file errors the stream', async () => {
  await assert.rejects(lastValueFrom(from([join(tmp, 'nope.png')]).pipe(load())), /load: .*nope\.png: cannot read: file not found/);
});

test('a colour image where one channel is required is an error with the fix named', async () => {
  const rgb = join(tmp, 'rgb.png');
  await writeImage(rgb, randomImage(6, 6, 3, 'uint8'), 'png');
  await assert.rejects(lastValueFrom(from([rgb]).pipe(load({ channels: 1 }))), /rgb\.png: the image must have 1 channel, got 3 channels \(RGB\) — load it with `grey: true`/);
  const grey = await lastValueFrom(from([rgb]).pipe(load({ channels: 1, grey: true })));
  assert.equal(grey.image.channels, 1);
});

test('labels are loaded with their image and must match its size', async () => {
  const image = join(tmp, 'pair.png');
  const label = join(tmp, 'pair-label.png');
  const small = join(tmp, 'small-label.png');
  await writeImage(image, randomImage(10, 8, 1, 'uint8'), 'png');
  await writeImage(label, randomImage(10, 8, 1, 'uint8', 2), 'png');
  await writeImage(small, randomImage(9, 8, 1, 'uint8', 2), 'png');
  const sample = await lastValueFrom(from([{ path: image, labelPath: label }]).pipe(load()));
  assert.equal(sample.label?.width, 10);
  await assert.rejects(lastValueFrom(from([{ path: image, labelPath: small }]).pipe(load())), /small-label\.png is 9x8, the image 10x8/);
});

test('normalisation converts to float32 as asked', async () => {
  const sample = await lastValueFrom(from([STACK]).pipe(load({ pages: [1], normalize: { method: 'minmax' } })));
  assert.equal(sample.image.dtype, 'float32');
  assert.equal(Math.min(...sample.image.data), 0);
  assert.equal(Math.max(...sample.image.data), 1);
});

test('bad parameters fail when the operator is created, with the path and a hint', () => {
  assert.throws(() => load({ chanels: 1 } as never), (e: unknown) => e instanceof ConfigError && /unknown key 'chanels' — did you mean 'channels'\?/.test(e.message));
  assert.throws(() => load({ channels: 0 }), /channels: expected a positive integer, got 0/);
  assert.throws(() => load({ normalize: { method: 'range' } }), /range needs min and max/);
});

test('an RGBA image where one channel is required is described by what the file holds, alpha included', async () => {
  const rgba = join(tmp, 'rgba.png');
  await writeImage(rgba, randomImage(6, 6, 4, 'uint8'), 'png');
  await assert.rejects(
    lastValueFrom(from([rgba]).pipe(load({ channels: 1 }))),
    /rgba\.png: the image must have 1 channel, got 4 channels \(RGB \+ alpha\) — load it with `grey: true` to convert to grayscale$/,
  );
  const grey = await lastValueFrom(from([rgba]).pipe(load({ channels: 1, grey: true })));
  assert.equal(grey.image.channels, 1);
  const rgb = await lastValueFrom(from([rgba]).pipe(load({ channels: 3 })));
  assert.equal(rgb.image.channels, 3, 'alpha is dropped, as documented');
});

test('a float image with NaN or infinite pixels is refused, with the counts and what to do', async () => {
  const path = join(tmp, 'holes.tif');
  const data = Float32Array.from([0.5, NaN, 0.25, Infinity, NaN, 0.75, NaN, -Infinity, 0, 1, 0.5, 0.5]);
  await writeImage(path, makeImage(4, 3, 1, 'float32', data), 'tiff');
  const failures: SampleError[] = [];
  await lastValueFrom(from([path]).pipe(load({}, { onSampleError: (e) => failures.push(e) }), toArray()));
  assert.equal(failures.length, 1);
  assert.equal(failures[0].file, path);
  assert.match(
    failures[0].message,
    /^load: .*holes\.tif: the image has 3 NaN and 2 infinite pixel values \(of 12\), which the network cannot use: replace them with numbers \(Fiji: Process > Math > Remove NaNs; numpy: numpy\.nan_to_num\) and save the image again$/,
  );
  const finite = join(tmp, 'finite.tif');
  await writeImage(finite, makeImage(2, 1, 1, 'float32', Float32Array.from([-1e30, 3.4e38])), 'tiff');
  assert.deepEqual(pixels((await lastValueFrom(from([finite]).pipe(load()))).image), [-1e30, 3.4e38].map(Math.fround));
});

test('an int16 TIFF loads with its values and type, and dtype normalisation maps it by its range', async () => {
  const path = join(tmp, 'signed.tif');
  await writeFile(path, typedTiff(2, 2, 1, Int16Array.from([-32767, 0, 16384, 32767])));
  const raw = await lastValueFrom(from([path]).pipe(load({ channels: 1 })));
  assert.deepEqual([raw.image.dtype, raw.image.sourceType, pixels(raw.image)], ['float32', 'int16', [-32767, 0, 16384, 32767]]);
  const scaled = await lastValueFrom(from([path]).pipe(load({ normalize: { method: 'dtype' } })));
  assert.deepEqual(pixels(scaled.image), [-1, 0, 16384 / 32767, 1].map(Math.fround));
  assert.equal(scaled.image.sourceType, undefined, 'normalised values no longer have the file\'s range');
});

test('a z/t TIFF pairs a label of one page per plane, and pages picks planes in the order of the samples', async () => {
  const page = (v: number) => ({ width: 2, height: 2, data: Uint8Array.from([v, v, v, v]) });
  // 2 channels x 3 slices: pages c0z0 c1z0 c0z1 ...
  const image = join(tmp, 'planes.tif');
  await writeFile(image, describedTiff([0, 1, 2, 3, 4, 5].map(page), 'ImageJ=1.11a\nimages=6\nchannels=2\nslices=3\nhyperstack=true\n'));
  const label = join(tmp, 'planes-label.tif');
  await writeFile(label, describedTiff([7, 8, 9].map(page)));
  const samples = await lastValueFrom(from([{ path: image, labelPath: label }]).pipe(load({ pages: [2, 0] }), toArray()));
  assert.deepEqual(samples.map((s) => [s.id, s.source.plane?.z, Array.from(s.image.data), s.label!.data[0]]), [
    ['planes.z2', 2, [4, 5, 4, 5, 4, 5, 4, 5], 9],
    ['planes.z0', 0, [0, 1, 0, 1, 0, 1, 0, 1], 7],
  ]);
  const failures: SampleError[] = [];
  await lastValueFrom(from([image]).pipe(load({ pages: [3] }, { onSampleError: (e) => failures.push(e) }), toArray()));
  await lastValueFrom(from([image]).pipe(load({ channel: 2 }, { onSampleError: (e) => failures.push(e) }), toArray()));
  assert.match(failures[0].message, /planes\.tif: plane 3 does not exist: the file has 3 z\/t planes of 2 channels x 3 z x 1 t \(ImageJ description\)/);
  assert.match(failures[1].message, /planes\.tif: channel 2 does not exist: the file has 2 channels \(0-1\) per plane/);
  await lastValueFrom(from([image]).pipe(load({ channels: 1 }, { onSampleError: (e) => failures.push(e) }), toArray()));
  assert.match(failures[2].message, /planes\.tif: the image must have 1 channel, got 2 channels \(2 channels x 3 z x 1 t \(ImageJ description\)\): keep the one the network takes with channel: N/);
});

test('channels: [..] picks channels of an RGB file too, and channel with channels is refused at creation', async () => {
  const path = join(tmp, 'rgb.png');
  await writeImage(path, makeImage(1, 1, 3, 'uint8', Uint8Array.of(10, 20, 30)), 'png');
  const [s] = await lastValueFrom(from([path]).pipe(load({ channels: [2, 1] }), toArray()));
  assert.deepEqual([s.image.channels, ...s.image.data], [2, 30, 20]);
  assert.throws(() => load({ channel: 0, channels: 1 }), (e: unknown) => e instanceof ConfigError && /give channel .* or channels, not both/.test(e.message));
  assert.throws(() => load({ channels: [] }), /channels: \[\] keeps no channel/);
});
