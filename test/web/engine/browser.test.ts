/**
 * The page's decoder, encoder and engine in Chromium (headless, WebGPU on: Google's
 * SwiftShader adapter on an http://127.0.0.1 page): JPEG through the browser's own
 * decoder and encoder against sharp's, and the shipped model on WebGPU and on wasm
 * against onnxruntime-node (the CLI's engine) on a demo slice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage } from '../../../src/io/read.js';
import { useBackend } from '../../../src/model/engines/choice.js';
import { loadOnnxRuntime, openOnnxPredictor } from '../../../src/model/engines/onnxruntime.js';
import { loadModel } from '../../../src/model/store.js';
import { needsChromium } from '../../helpers/browser.js';
import { tempDir } from '../../helpers/files.js';
import { openEnginePage } from './browser-page.js';

declare const unetflowWeb: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const MODEL = 'models/isbi2012-em';
const SIZE = 252;

async function crop(slice: string, size: number, at: number): Promise<Float32Array> {
  const image = await readImage(join('fixtures/isbi2012/test', slice));
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = image.data[(y + at) * image.width + x + at] / 255;
  return out;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same number of values');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

test('in Chromium the shipped model gives onnxruntime-node\'s probabilities on WebGPU (SwiftShader) and on wasm, and says where it runs', needsChromium(), async () => {
  await useBackend('wasm');
  const x = await crop('01.png', SIZE, 130);
  const node = await openOnnxPredictor((await loadModel(MODEL)).model, await loadOnnxRuntime(), { threads: 1, name: MODEL });
  const expected = { none: await node.predict(x, 1, SIZE, 'none'), flips: await node.predict(x, 1, SIZE, 'flips') };
  await node.close();
  const { page, dispose } = await openEnginePage();
  try {
    const runs = await page.evaluate(async ({ input, size }) => {
      const files = { name: 'model', read: async (f: string) => new Uint8Array(await (await fetch(`model/${f}`)).arrayBuffer()) };
      const out: Record<string, unknown> = {};
      for (const backend of ['webgpu', 'auto', 'wasm']) {
        const { predictor, backend: info } = await unetflowWeb.openWebPredictor(files, { ort: unetflowWeb.ort, backend });
        const tile = Float32Array.from(input);
        out[backend] = { info, description: predictor.description, none: Array.from(await predictor.predict(tile, 1, size, 'none')), flips: backend === 'webgpu' ? Array.from(await predictor.predict(tile, 1, size, 'flips')) : [] };
        await predictor.close();
      }
      return out;
    }, { input: Array.from(x), size: SIZE });
    const webgpu = runs.webgpu as { info: { name: string; adapter: { vendor: string; architecture: string; software: boolean }; skipped: string[] }; description: string; none: number[]; flips: number[] };
    assert.equal(webgpu.info.name, 'webgpu');
    assert.deepEqual([webgpu.info.adapter.vendor, webgpu.info.adapter.architecture, webgpu.info.adapter.software], ['google', 'swiftshader', true]);
    assert.ok(maxDifference(webgpu.none, expected.none) < 1e-4, `webgpu: max difference ${maxDifference(webgpu.none, expected.none)}`);
    assert.ok(maxDifference(webgpu.flips, expected.flips) < 1e-4, `webgpu flips: max difference ${maxDifference(webgpu.flips, expected.flips)}`);
    // auto leaves a software adapter for wasm, saying so.
    const auto = runs.auto as { info: { name: string; skipped: string[] }; none: number[] };
    assert.equal(auto.info.name, 'wasm');
    assert.match(auto.info.skipped.join('\n'), /^webgpu: google swiftshader .* is a software adapter, slower than wasm/);
    const wasm = runs.wasm as { info: { name: string }; description: string; none: number[] };
    assert.match(wasm.description, /wasm SIMD, 1 thread \(the page is not cross-origin isolated\)/);
    assert.ok(maxDifference(wasm.none, expected.none) < 1e-4, `wasm: max difference ${maxDifference(wasm.none, expected.none)}`);
  } finally {
    await dispose();
  }
});

test('in Chromium a JPEG decodes to sharp\'s pixels within one level, and the page\'s JPEG reads back through sharp close to the image', needsChromium(), async () => {
  const slice = await readImage('fixtures/isbi2012/test/00.png');
  const grey = await sharp(slice.data, { raw: { width: slice.width, height: slice.height, channels: 1 } }).jpeg({ quality: 90 }).toBuffer();
  const colour = Uint8Array.from({ length: slice.data.length * 3 }, (_, i) => (slice.data[Math.floor(i / 3)] * [1, 0.8, 0.6][i % 3] + [0, 20, 40][i % 3]) | 0);
  const rgb = await sharp(colour, { raw: { width: slice.width, height: slice.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  const dir = await tempDir('unetflow-web-jpeg-');
  const { page, dispose } = await openEnginePage({ 'grey.jpg': grey, 'rgb.jpg': rgb });
  try {
    for (const name of ['grey.jpg', 'rgb.jpg']) {
      const path = join(dir, name);
      await writeFile(path, name === 'grey.jpg' ? grey : rgb);
      const expected = await readImage(path);
      const got = await page.evaluate(async (file) => {
        const bytes = new Uint8Array(await (await fetch(file)).arrayBuffer());
        const image = await unetflowWeb.readImageBytes(bytes, file);
        return { width: image.width, height: image.height, channels: image.channels, dtype: image.dtype, data: Array.from(image.data as Uint8Array) };
      }, name);
      assert.deepEqual([got.width, got.height, got.channels, got.dtype], [expected.width, expected.height, expected.channels, expected.dtype], name);
      // Decoders may round the inverse DCT and the colour conversion differently.
      assert.ok(maxDifference(got.data, expected.data) <= 1, `${name}: max difference ${maxDifference(got.data, expected.data)} levels`);
    }
    const encoded = await page.evaluate(async ({ data, width, height }) => {
      const image = { width, height, channels: 1, dtype: 'uint8', data: Uint8Array.from(data) };
      return Array.from(await unetflowWeb.encodeImage(image, 'jpeg')) as number[];
    }, { data: Array.from(slice.data as Uint8Array), width: slice.width, height: slice.height });
    const path = join(dir, 'page.jpg');
    await writeFile(path, Uint8Array.from(encoded));
    const back = await readImage(path);
    assert.equal(back.channels, 3, 'the browser writes grey as RGB');
    let sum = 0;
    for (let i = 0; i < slice.data.length; i++) sum += Math.abs(back.data[i * 3] - slice.data[i]);
    assert.ok(sum / slice.data.length < 3, `mean difference ${sum / slice.data.length} levels at quality 90`);
  } finally {
    await dispose();
  }
});
