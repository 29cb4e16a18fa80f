/**
 * The page's encoder (src/web/image/encode.ts) against Node's (src/io/write.ts, sharp):
 * every output `save` writes, read back through Node's reader (sharp), gives the same
 * pixels and the same pixel size; uncompressed TIFFs are the same bytes; CSVs the same text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeImage, type Image } from '../../../src/image/image.js';
import { inspectImage, readImage } from '../../../src/io/read.js';
import { encodeOutput as nodeOutput, outputNames, type OutputName } from '../../../src/io/save-outputs.js';
import { encodeImage as nodeEncode, type ImageFormat } from '../../../src/io/write.js';
import type { Sample } from '../../../src/sample.js';
import { encodeImage, encodeOutput } from '../../../src/web/image/encode.js';
import { randomImage } from '../../helpers/images.js';

const tmp = await mkdtemp(join(tmpdir(), 'unetflow-web-encode-'));
let count = 0;

/** Both files through sharp: same info (calibration included), same pixels on every page. */
async function assertSameReadBack(page: Uint8Array, node: Uint8Array, ext: string, what: string): Promise<void> {
  const [a, b] = [join(tmp, `${++count}-page.${ext}`), join(tmp, `${count}-node.${ext}`)];
  await writeFile(a, page);
  await writeFile(b, node);
  const [ia, ib] = [await inspectImage(a), await inspectImage(b)];
  assert.deepEqual(ia, ib, `${what}: info`);
  for (let p = 0; p < ia.pages; p++) {
    const [x, y] = [await readImage(a, p, 'load', ia), await readImage(b, p, 'load', ib)];
    assert.deepEqual([x.width, x.height, x.channels, x.dtype], [y.width, y.height, y.channels, y.dtype], `${what}: page ${p} shape`);
    assert.ok(Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength).equals(Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength)), `${what}: page ${p} pixels`);
  }
}

function demoSample(pixelSize?: { y: number; x: number }): Sample {
  const [w, h] = [24, 18];
  const image = randomImage(w, h, 1, 'uint8', 11);
  const p1 = Float32Array.from({ length: w * h }, (_, i) => ((i * 7919) % 1000) / 1000);
  const probabilities = makeImage(w, h, 2, 'float32', Float32Array.from({ length: w * h * 2 }, (_, i) => (i % 2 ? p1[i >> 1] : 1 - p1[i >> 1])));
  const mask = makeImage(w, h, 1, 'uint8', Uint8Array.from(p1, (v) => (v > 0.5 ? 1 : 0)));
  const instances = makeImage(w, h, 1, 'uint16', Uint16Array.from({ length: w * h }, (_, i) => (((i % w) >> 3) + 3 * ((i / w) >> 3)) % 5));
  return { id: 'demo', source: { path: 'in/demo.png' }, image, probabilities, mask, instances, ...(pixelSize ? { metadata: { pixelSize } } : {}) };
}

for (const pixelSize of [undefined, { y: 0.65, x: 0.123 }]) {
  const calibrated = pixelSize ? 'a calibrated' : 'an uncalibrated';
  test(`every output save writes for ${calibrated} sample reads back through sharp as Node's own file does`, async () => {
    const sample = demoSample(pixelSize);
    for (const name of outputNames.filter((n) => n !== 'label' && n !== 'weights') as OutputName[]) {
      const formats: (ImageFormat | undefined)[] = name === 'measurements' ? [undefined] : [undefined, 'tiff', 'ome-tiff', ...(name === 'probabilities' ? [] : ['png' as const])];
      for (const format of formats) {
        const [page, node] = [await encodeOutput(name, sample, format), await nodeOutput(name, sample, format, nodeEncode)];
        assert.equal(page.ext, node.ext, `${name} ${format}: extension`);
        if (typeof node.bytes === 'string') {
          assert.equal(page.bytes, node.bytes, `${name}: the same CSV`);
          continue;
        }
        assert.ok(page.bytes instanceof Uint8Array);
        await assertSameReadBack(page.bytes, node.bytes, page.ext, `${name} as ${format ?? 'default'}`);
      }
    }
  });
}

test('uncompressed TIFFs from the page are the bytes Node writes, for every dtype, several pages and both descriptions', async () => {
  const cases: [Image[], ImageFormat][] = [
    [[randomImage(30, 20, 1, 'uint8', 1)], 'tiff'],
    [[randomImage(30, 20, 3, 'uint16', 2), randomImage(30, 20, 3, 'uint16', 3)], 'tiff'],
    [[randomImage(300, 250, 1, 'float32', 4), randomImage(300, 250, 1, 'float32', 5)], 'ome-tiff'],
  ];
  for (const [pages, format] of cases) {
    for (const pixelSize of [undefined, { y: 0.5, x: 0.25 }]) {
      const options = { compression: 'none' as const, pixelSize };
      assert.ok(Buffer.from(await encodeImage(pages, format, options)).equals(await nodeEncode(pages, format, options)), `${format} ${pages[0].dtype}`);
    }
  }
});

test('PNGs of 8 and 16 bits, grey, RGB and RGBA read back as Node writes them, with the same pHYs', async () => {
  for (const [channels, dtype] of [[1, 'uint8'], [1, 'uint16'], [3, 'uint8'], [4, 'uint16']] as const) {
    const image = randomImage(41, 23, channels, dtype, channels);
    const options = { pixelSize: { y: 0.2, x: 0.3 } };
    await assertSameReadBack(await encodeImage(image, 'png', options), await nodeEncode(image, 'png', options), 'png', `${channels} x ${dtype}`);
  }
});

test('the page refuses what a format cannot hold with Node\'s words', async () => {
  const float = randomImage(4, 4, 1, 'float32', 1);
  for (const [pages, format] of [[float, 'png'], [randomImage(4, 4, 2, 'uint8', 1), 'png'], [[float, float], 'png'], [randomImage(4, 4, 1, 'uint16', 1), 'jpeg']] as const) {
    const node = await nodeEncode(pages, format).then(() => assert.fail('Node wrote it'), (e: Error) => e.message);
    await assert.rejects(encodeImage(pages, format), (e: Error) => e.message === node);
  }
  await assert.rejects(encodeImage(float, 'tiff', { pixelSize: { y: 0, x: 1 } }), /cannot record a pixel size of y 0 µm, x 1 µm: expected positive numbers/);
});
