import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tiffCalibration } from '../../src/io/tiff-calibration.js';
import { layoutFromDescription, pageOf, planesOf, type TiffLayout } from '../../src/io/tiff-dimensions.js';
import { omeDescription } from './described-tiff.js';

const GOLDEN = JSON.parse(readFileSync('test/golden/pixel-size.json', 'utf8')) as { written_by_tifffile: Record<string, { description: string | null; shape: number[] }> };
const layout = (description: string, pages: number, samples = 1) => layoutFromDescription(description, pages, samples) as TiffLayout;

test('OME-XML pages are laid out by DimensionOrder, its first letter after XY fastest', () => {
  const sizes = { c: 3, z: 2, t: 2, width: 1, height: 1 };
  // Every (c, z, t) by hand, for two orders: index = c + 3 (z + 2 t) and z + 2 (t + 2 c).
  const czt = layout(omeDescription({ ...sizes, order: 'XYCZT' }), 12);
  const ztc = layout(omeDescription({ ...sizes, order: 'XYZTC' }), 12);
  for (let c = 0; c < 3; c++) {
    for (let z = 0; z < 2; z++) {
      for (let t = 0; t < 2; t++) {
        assert.equal(pageOf(czt, c, z, t), c + 3 * (z + 2 * t));
        assert.equal(pageOf(ztc, c, z, t), z + 2 * (t + 2 * c));
      }
    }
  }
  assert.deepEqual({ ...czt }, { from: 'OME-XML', channels: 3, channelPages: 3, z: 2, t: 2, order: 'CZT' });
});

test('an ImageJ hyperstack is channel fastest, then slice, then frame', () => {
  const l = layout('ImageJ=1.11a\nimages=24\nchannels=2\nslices=3\nframes=4\nhyperstack=true\n', 24);
  assert.deepEqual({ ...l }, { from: 'ImageJ description', channels: 2, channelPages: 2, z: 3, t: 4, order: 'CZT' });
  assert.equal(pageOf(l, 1, 2, 3), 1 + 2 * (2 + 3 * 3));
});

test('planes are named by the axes the file has, z fastest', () => {
  const names = (d: string, pages: number) => planesOf(layout(d, pages)).map((p) => `${p.index}:${p.suffix}`);
  assert.deepEqual(names('ImageJ=1.11a\nchannels=2\nslices=2\nframes=2\n', 8), ['0:z0.t0', '1:z1.t0', '2:z0.t1', '3:z1.t1']);
  assert.deepEqual(names('ImageJ=1.11a\nchannels=2\nslices=3\n', 6), ['0:z0', '1:z1', '2:z2']);
  assert.deepEqual(names('ImageJ=1.11a\nframes=3\n', 3), ['0:t0', '1:t1', '2:t2']);
  assert.deepEqual(names('ImageJ=1.11a\nchannels=4\n', 4), ['0:']);
});

test('plain stacks keep a page per sample: no layout for one channel along z, as Fiji, tifffile and unetflow describe them', () => {
  const stack = GOLDEN.written_by_tifffile['tifffile-imagej-stack.tif'];
  assert.equal(layoutFromDescription(stack.description!, stack.shape[0], 1), undefined, 'tifffile: images=3, slices=3, hyperstack=true');
  const shape = { pages: 5, width: 4, height: 4, channels: 1, dtype: 'uint8' as const };
  assert.equal(layoutFromDescription(tiffCalibration(shape, { x: 1, y: 1 }, false).description, 5, 1), undefined, 'unetflow ImageJ stack');
  assert.equal(layoutFromDescription(tiffCalibration(shape, undefined, true).description, 5, 1), undefined, 'unetflow OME stack');
  const rgb = { ...shape, channels: 3 };
  assert.equal(layoutFromDescription(tiffCalibration(rgb, undefined, true).description, 5, 3), undefined, 'RGB pages: SizeC=3 in each page');
  assert.equal(layoutFromDescription('ImageJ=1.11a\nunit=micron\n', 7, 1), undefined, 'nothing said about the pages');
  assert.equal(layoutFromDescription(undefined, 7, 1), undefined);
  for (const [name, file] of Object.entries(GOLDEN.written_by_tifffile)) {
    // Every other file there is one plane (YX): a single page.
    if (file.description) assert.equal(layoutFromDescription(file.description, file.shape.length > 2 ? file.shape[0] : 1, 1), undefined, name);
  }
});

test('RGB pages of a time series are one channel page per plane', () => {
  const l = layout(omeDescription({ c: 3, z: 1, t: 4, width: 1, height: 1 }), 4, 3);
  assert.deepEqual([l.channels, l.channelPages, l.z, l.t], [3, 1, 1, 4]);
  assert.equal(pageOf(l, 0, 0, 2), 2);
});

test('sizes that do not multiply to the pages say what the description and the file hold', () => {
  const problem = (d: string, pages: number) => layoutFromDescription(d, pages, 1) as string;
  assert.match(problem(omeDescription({ c: 3, z: 4, t: 1, width: 1, height: 1 }), 10), /^its OME-XML describes SizeC=3 x SizeZ=4 x SizeT=1 = 12 pages, but the file has 10: expected one page per channel/);
  assert.match(problem('ImageJ=1.11a\nimages=12\nchannels=3\nslices=4\n', 1), /ImageJ description describes channels=3 x slices=4 x frames=1 = 12 pages, but the file has 1 \(ImageJ stores files over 4 GiB as one page/);
  assert.match(problem('ImageJ=1.11a\nimages=10\nchannels=3\nslices=4\n', 12), /says images=10 but channels=3 x slices=4 x frames=1 = 12/);
  assert.match(problem('ImageJ=1.11a\nchannels=two\n', 2), /says channels=two: expected a positive integer/);
  assert.match(problem(omeDescription({ c: 1, z: 2, t: 1, width: 1, height: 1 }).replace('XYCZT', 'XYQZT'), 2), /DimensionOrder="XYQZT": expected XY followed by C, Z and T/);
});

test('an OME-TIFF of several images (series), or one file of a set sharing an image, is read page by page, as before', () => {
  const one = omeDescription({ c: 2, z: 1, t: 1, width: 1, height: 1 });
  const two = one.replace('</Image>', '</Image><Image ID="Image:1"><Pixels ID="Pixels:1" DimensionOrder="XYCZT" SizeC="2" SizeZ="1" SizeT="1"/></Image>');
  assert.equal(layoutFromDescription(two, 4, 1), undefined);
  // Bio-Formats names the file each plane is in: here channel 1 lies in another file.
  const plane = (c: number, file: string) => `<TiffData FirstC="${c}" FirstZ="0" FirstT="0" IFD="0" PlaneCount="1"><UUID FileName="${file}">urn:uuid:${c}</UUID></TiffData>`;
  const set = one.replace(/<TiffData[^>]*\/>/, plane(0, 'c0.ome.tif') + plane(1, 'c1.ome.tif'));
  assert.equal(layoutFromDescription(set, 1, 1, 'c0.ome.tif'), undefined);
  const whole = one.replace(/<TiffData[^>]*\/>/, plane(0, 'both.ome.tif') + plane(1, 'both.ome.tif'));
  assert.equal((layoutFromDescription(whole, 2, 1, 'both.ome.tif') as TiffLayout).channels, 2, 'every plane in this file: laid out');
});
