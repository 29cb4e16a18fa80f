/**
 * The page's decoder (src/web/image/decode.ts: fast-png, geotiff) against Node's reader
 * (sharp): the same ImageInfo, the same pixels, the same pixel size on every image in
 * fixtures/ and on the PNG and TIFF variants the io tests make (sample types, alpha,
 * compressions, tiles, BigTIFF, several pages, calibrations, hyperstacks), and the same
 * errors on bad files. JPEG is decoded by the browser, which Node lacks: only its header
 * is compared here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { SampleError } from '../../../src/errors.js';
import { makeImage, type Image } from '../../../src/image/image.js';
import { inspectImage, readImage, type ImageInfo } from '../../../src/io/read.js';
import { readTiffLayout } from '../../../src/io/tiff-dimensions.js';
import { encodeTiff } from '../../../src/io/tiff.js';
import { encodeImage } from '../../../src/io/write.js';
import { inspectImageBytes, readImageBytes, readTiffLayoutBytes } from '../../../src/web/image/decode.js';
import { randomImage } from '../../helpers/images.js';
import { describedTiff, omeDescription } from '../../io/described-tiff.js';
import { typedTiff } from '../../io/typed-tiff.js';

const tmp = await mkdtemp(join(tmpdir(), 'unetflow-web-decode-'));

async function fixtures(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await fixtures(path)));
    else if (/\.(png|jpe?g|tiff?)$/i.test(e.name)) out.push(path);
  }
  return out.sort();
}

/** Both readers on one file: info, every page's pixels (bit for bit: NaN is NaN), the layout. */
async function assertSameAsNode(path: string): Promise<ImageInfo> {
  const bytes = new Uint8Array(await readFile(path));
  const node = await inspectImage(path);
  const page = await inspectImageBytes(bytes, path);
  assert.deepEqual(page, node, `${path}: info`);
  if (node.format === 'jpeg') return node;
  for (let p = 0; p < node.pages; p++) {
    const expected = await readImage(path, p, 'load', node);
    const got = await readImageBytes(bytes, path, p, 'load', page);
    assertSameImage(got, expected, `${path} page ${p}`);
  }
  if (node.format === 'tiff') {
    const spp = node.channels + (node.alpha ? 1 : 0);
    assert.deepEqual(await readTiffLayoutBytes(bytes, path, page.pages, spp), await readTiffLayout(path, node.pages, spp), `${path}: layout`);
  }
  return node;
}

function assertSameImage(got: Image, expected: Image, what: string): void {
  assert.deepEqual([got.width, got.height, got.channels, got.dtype, got.sourceType], [expected.width, expected.height, expected.channels, expected.dtype, expected.sourceType], `${what}: shape`);
  assert.equal(got.data.constructor, expected.data.constructor, `${what}: array type`);
  const a = new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength);
  const b = new Uint8Array(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength);
  const first = a.findIndex((v, i) => v !== b[i]);
  assert.equal(first, -1, `${what}: bytes differ first at byte ${first}`);
}

async function file(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, bytes);
  return path;
}

test('the page decodes every image in fixtures/ to the pixels and pixel size sharp reads', async () => {
  const paths = await fixtures('fixtures');
  assert.ok(paths.length >= 5, `found ${paths.length} fixtures`);
  for (const path of paths) await assertSameAsNode(path);
});

test('every sample type a TIFF may hold decodes as in Node, grey and RGB (integers), with alpha dropped', async () => {
  const n = 6;
  const typed = {
    uint8: Uint8Array.from({ length: n * 4 }, (_, i) => (i * 37) % 256),
    int8: Int8Array.from({ length: n * 4 }, (_, i) => ((i * 37) % 256) - 128),
    uint16: Uint16Array.from({ length: n * 4 }, (_, i) => (i * 4099) % 65536),
    int16: Int16Array.from({ length: n * 4 }, (_, i) => ((i * 4099) % 65536) - 32768),
    int32: Int32Array.from({ length: n * 4 }, (_, i) => (i - 12) * 700001),
    uint32: Uint32Array.from({ length: n * 4 }, (_, i) => i * 700001),
    float32: Float32Array.from({ length: n * 4 }, (_, i) => (i === 5 ? NaN : i === 7 ? -Infinity : (i - 10) / 3)),
  };
  for (const [type, values] of Object.entries(typed)) {
    // sharp converts 3- and 4-band float (scRGB to sRGB levels); the page keeps the file's values.
    for (const channels of type === 'float32' ? [1, 2] : [1, 2, 3, 4]) {
      const info = await assertSameAsNode(await file(`${type}-${channels}.tif`, typedTiff(3, 2, channels, values.subarray(0, n * channels))));
      assert.equal(info.channels, channels === 2 ? 1 : channels === 4 ? 3 : channels);
    }
  }
  const rgb = typed.float32.subarray(0, n * 3);
  const path = await file('float32-rgb.tif', typedTiff(3, 2, 3, rgb));
  const got = await readImageBytes(new Uint8Array(await readFile(path)), path);
  assert.deepEqual([got.channels, got.dtype, [...got.data]], [3, 'float32', [...rgb]], 'float RGB keeps the values written');
});

test('TIFFs compressed with LZW, deflate or packbits, tiled, BigTIFF and multi-page decode as in Node', async () => {
  const grey = randomImage(70, 50, 1, 'uint8', 3);
  const rgb16 = randomImage(70, 50, 3, 'uint16', 4);
  const raw = (image: Image) => sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 } });
  const variants: [string, Uint8Array][] = [];
  for (const compression of ['lzw', 'deflate', 'packbits', 'none'] as const) {
    variants.push([`grey-${compression}.tif`, await raw(grey).tiff({ compression }).toBuffer()]);
    variants.push([`rgb16-${compression}.tif`, await raw(rgb16).toColourspace('rgb16').tiff({ compression }).toBuffer()]);
    variants.push([`grey-${compression}-predictor.tif`, await raw(grey).tiff({ compression, predictor: compression === 'none' || compression === 'packbits' ? 'none' : 'horizontal' }).toBuffer()]);
  }
  variants.push(['tiled.tif', await raw(grey).tiff({ tile: true, tileWidth: 16, tileHeight: 16, compression: 'deflate' }).toBuffer()]);
  variants.push(['big.tif', await raw(grey).tiff({ bigtiff: true, compression: 'lzw' }).toBuffer()]);
  variants.push(['pages.tif', encodeTiff([randomImage(20, 10, 1, 'float32', 5), randomImage(20, 10, 1, 'float32', 6), randomImage(20, 10, 1, 'float32', 7)])]);
  variants.push(['pages-uncompressed.tif', encodeTiff([randomImage(20, 10, 3, 'uint16', 5), randomImage(20, 10, 3, 'uint16', 6)], 'none')]);
  for (const [name, bytes] of variants) await assertSameAsNode(await file(name, bytes));
});

test('the pixel size recorded by ImageJ descriptions, OME-XML, resolution tags and pHYs reads as in Node', async () => {
  const size = { y: 0.65, x: 0.123 };
  const image = randomImage(9, 7, 1, 'uint16', 8);
  const calibrated: [string, Uint8Array][] = [
    ['imagej.tif', await encodeImage([image, image], 'tiff', { pixelSize: size })],
    ['ome.ome.tif', await encodeImage(image, 'ome-tiff', { pixelSize: size })],
    ['ome-uncalibrated.ome.tif', await encodeImage(image, 'ome-tiff')],
    ['phys.png', await encodeImage(image, 'png', { pixelSize: size })],
    ['phys-none.png', await encodeImage(image, 'png')],
    ['dpi-cm.tif', await sharp(Buffer.from(new Uint8Array(63)), { raw: { width: 9, height: 7, channels: 1 } }).withMetadata({ density: 25400 / 0.5 }).tiff({ resolutionUnit: 'cm', compression: 'deflate' }).toBuffer()],
  ];
  for (const [name, bytes] of calibrated) {
    const info = await assertSameAsNode(await file(name, bytes));
    if (!/none|uncalibrated/.test(name)) assert.ok(info.calibration.pixelSize, `${name} is calibrated`);
  }
  const problem = await assertSameAsNode(await file('zero.tif', describedTiff([{ width: 2, height: 2, data: new Uint8Array(4) }], '<OME><Image><Pixels PhysicalSizeX="0" PhysicalSizeY="1"></Pixels></Image></OME>')));
  assert.equal(problem.calibration.problems.length, 1);
});

test('PNGs of 1, 8 and 16 bits, grey, grey + alpha, RGB, RGBA and palettes decode as in Node', async () => {
  const raw = (image: Image) => sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 2 | 3 | 4 } });
  const variants: [string, Uint8Array][] = [
    ['grey8.png', await raw(randomImage(33, 17, 1, 'uint8', 1)).png().toBuffer()],
    ['grey16.png', await raw(randomImage(33, 17, 1, 'uint16', 2)).toColourspace('grey16').png().toBuffer()],
    ['grey-alpha.png', await raw(randomImage(33, 17, 2, 'uint8', 3)).png().toBuffer()],
    ['rgb.png', await raw(randomImage(33, 17, 3, 'uint8', 4)).png().toBuffer()],
    ['rgba16.png', await raw(randomImage(33, 17, 4, 'uint16', 5)).toColourspace('rgb16').png().toBuffer()],
    ['palette.png', await raw(randomImage(33, 17, 3, 'uint8', 6)).png({ palette: true, colours: 16 }).toBuffer()],
    ['bits1.png', await raw(makeImage(33, 17, 1, 'uint8', Uint8Array.from({ length: 561 }, (_, i) => (i % 3 ? 255 : 0)))).png({ palette: true, colours: 2 }).toBuffer()],
    ['interlaced.png', await raw(randomImage(33, 17, 1, 'uint8', 7)).png({ progressive: true }).toBuffer()],
  ];
  for (const [name, bytes] of variants) await assertSameAsNode(await file(name, bytes));
});

test('a hyperstack and an OME-TIFF of channels and planes lay out as in Node, and a description that disagrees is refused alike', async () => {
  const pages = Array.from({ length: 12 }, (_, k) => ({ width: 5, height: 4, data: Uint16Array.from({ length: 20 }, (_, i) => k * 100 + i) }));
  await assertSameAsNode(await file('hyper.tif', describedTiff(pages, 'ImageJ=1.54f\nimages=12\nchannels=2\nslices=3\nframes=2\nhyperstack=true\n')));
  await assertSameAsNode(await file('ome-czt.ome.tif', describedTiff(pages, omeDescription({ c: 3, z: 2, t: 2, order: 'XYZCT', width: 5, height: 4, type: 'uint16' }))));
  const wrong = await file('wrong.tif', describedTiff(pages.slice(0, 5), 'ImageJ=1.54f\nchannels=2\nslices=3\n'));
  const node = await readTiffLayout(wrong, 5, 1).then(() => assert.fail('Node took it'), (e: Error) => e.message);
  const page = await readTiffLayoutBytes(new Uint8Array(await readFile(wrong)), wrong, 5, 1).then(() => assert.fail('the page took it'), (e: Error) => e.message);
  assert.equal(page, node);
});

test('a JPEG header gives the size and channels sharp reports (its pixels are the browser\'s to decode)', async () => {
  for (const channels of [1, 3] as const) {
    const path = await file(`photo${channels}.jpg`, await sharp(randomImage(40, 30, channels, 'uint8', 9).data, { raw: { width: 40, height: 30, channels } }).jpeg().toBuffer());
    await assertSameAsNode(path);
    await assert.rejects(readImageBytes(new Uint8Array(await readFile(path)), path), (e: SampleError) => e instanceof SampleError && /JPEG is decoded by the browser/.test(e.message));
  }
});

/** The page's error and Node's for one file: both SampleErrors naming the file, and `same` for the message. */
async function bothFail(path: string, expected: RegExp): Promise<[string, string]> {
  const bytes = new Uint8Array(await readFile(path));
  const node = await readImage(path).then(() => assert.fail(`Node read ${path}`), (e: SampleError) => e);
  const page = await readImageBytes(bytes, path).then(() => assert.fail(`the page read ${path}`), (e: SampleError) => e);
  for (const e of [node, page]) {
    assert.ok(e instanceof SampleError && e.file === path && e.step === 'load', `${e}`);
    assert.match(e.message, expected);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  }
  return [page.message, node.message];
}

test('bad files give the page the CLI\'s one-line errors, naming the file', async () => {
  const rel = (p: string) => relative(process.cwd(), p);
  await bothFail(await file('empty.png', new Uint8Array()), /empty\.png: the file is empty \(0 bytes\)/);
  await bothFail(await file('notes.tif', new TextEncoder().encode('not an image at all, just words')), /notes\.tif: not a readable image: expected PNG, JPEG or TIFF/);
  const [page, node] = await bothFail(await file('double.tif', typedTiff(3, 2, 1, Float64Array.from([0, 0.5, 1, 2, 3, 4]))), /float64 samples are not supported/);
  assert.equal(page, node);
  const cut = typedTiff(300, 200, 1, Uint16Array.from({ length: 60000 }, (_, i) => i % 4096));
  const [pageCut, nodeCut] = await bothFail(await file('cut-pixels.tif', cut.subarray(0, 60000)), /cut-pixels\.tif: the TIFF is truncated: the file has 60,000 bytes, its pixel data runs to byte 120,\d{3}/);
  assert.equal(pageCut, nodeCut);
  const whole = encodeTiff([randomImage(300, 200, 1, 'uint16', 3)]);
  const [pageDir, nodeDir] = await bothFail(await file('cut-directory.tif', whole.subarray(0, whole.length / 2)), /cut-directory\.tif: the TIFF is truncated: its image directory starts at byte/);
  assert.equal(pageDir, nodeDir);
  const png = await encodeImage(randomImage(200, 100, 1, 'uint8', 2), 'png');
  await bothFail(await file('cut.png', png.subarray(0, png.length - 400)), /cut\.png: the image is corrupt or truncated/);
  assert.ok(rel(tmp));
});

test('a header claiming more pixels than the limit is refused before decoding, with the CLI\'s message', async () => {
  // A PNG header claiming 100000 x 100000 px, then nothing: refused by its header alone.
  const png = new Uint8Array(await encodeImage(randomImage(4, 4, 1, 'uint8', 1), 'png'));
  const view = new DataView(png.buffer, png.byteOffset);
  view.setUint32(16, 100000);
  view.setUint32(20, 100000);
  const path = await file('huge.png', png);
  const limit = { bytes: 2 ** 30, why: 'a test limit' };
  await assert.rejects(readImageBytes(png, path, 0, 'load', undefined, limit), (e: SampleError) =>
    e instanceof SampleError && e.file === path && /huge\.png: the image is 100000 x 100000 px, 1 channel: 37\.3 GiB as float32 samples, more than this run can hold \(1\.0 GiB: a test limit\); refused before decoding/.test(e.message));
  const tiff = await file('huge.tif', describedTiff([{ width: 1, height: 1, data: new Uint8Array(1) }]));
  const tiffBytes = new Uint8Array(await readFile(tiff));
  const info = await inspectImageBytes(tiffBytes, tiff);
  await assert.rejects(readImageBytes(tiffBytes, tiff, 0, 'load', { ...info, width: 70000, height: 70000 }, limit), /refused before decoding/);
});

test('a TIFF whose directory points back at itself is one page that cannot be decoded, as in Node, instead of a frozen tab', async () => {
  const bytes = new Uint8Array(encodeTiff([randomImage(4, 4, 1, 'uint8', 1)], 'none'));
  const view = new DataView(bytes.buffer);
  const ifd = view.getUint32(4, true);
  view.setUint32(ifd + 2 + view.getUint16(ifd, true) * 12, ifd, true);
  const path = await file('loop.tif', bytes);
  assert.equal((await inspectImageBytes(bytes, path)).pages, (await inspectImage(path)).pages);
  const [page, node] = await bothFail(path, /loop\.tif: the image is corrupt or truncated \(TIFF directory 0 has IFD looping to directory 0 at offset 0x18 \(24\)/);
  assert.ok(node.startsWith(page.replace(/\)$/, '')), `${page}\n${node}`);
});

test('a page the file lacks is refused as in Node', async () => {
  const path = await file('two.tif', encodeTiff([randomImage(4, 4, 1, 'uint8', 1), randomImage(4, 4, 1, 'uint8', 2)]));
  const bytes = new Uint8Array(await readFile(path));
  await assert.rejects(readImageBytes(bytes, path, 2), /two\.tif: page 2 does not exist: the file has 2 page\(s\)/);
});
