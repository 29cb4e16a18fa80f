import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Image } from '../../src/image/image.js';
import type { PixelSize } from '../../src/image/pixel-size.js';
import { inspectImage, readImage } from '../../src/io/read.js';
import { readFirstDirectory, type TiffField } from '../../src/io/tiff-directory.js';
import { encodeCase, fileName, goldenCases } from '../golden/pixel-size-cases.js';

/** What tifffile (TIFF) or Pillow (PNG: physical size, pixels) read (test/golden/pixel-size.py). */
interface Reading {
  description: string | null;
  x_resolution: [number, number] | null;
  y_resolution: [number, number] | null;
  resolution_unit: number | null;
  is_imagej: boolean;
  is_ome: boolean;
  physical_size: PixelSize | null;
  shape: number[];
  pixels_sha256: string;
}
const golden = JSON.parse(await readFile('test/golden/pixel-size.json', 'utf8')) as {
  written_by_unetflow: Record<string, Reading>;
  written_by_tifffile: Record<string, Reading>;
};
const tmp = await mkdtemp(join(tmpdir(), 'unetflow-pixel-size-'));
// tifffile reads 1/resolution in doubles; unetflow's rationals hold decimal sizes exactly, tifffile's to ~1e-10.
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.abs(b);

function sha256(pages: readonly Image[]): string {
  const hash = createHash('sha256');
  for (const p of pages) hash.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  return hash.digest('hex');
}

async function fieldsOf(path: string): Promise<Map<number, TiffField>> {
  const file = await open(path, 'r');
  try {
    const directory = await readFirstDirectory(file, (await file.stat()).size, [270, 282, 283, 296]);
    assert.ok(directory && 'fields' in directory);
    return directory.fields;
  } finally {
    await file.close();
  }
}

test('the golden file covers every calibrated case unetflow writes', () => {
  assert.deepEqual(Object.keys(golden.written_by_unetflow).sort(), goldenCases.map(fileName).sort());
});

for (const c of goldenCases.filter((c) => c.format !== 'png')) {
  test(`tifffile reads the pixel size unetflow writes into ${fileName(c)}, and so does unetflow`, async () => {
    const seen = golden.written_by_unetflow[fileName(c)];
    const path = join(tmp, fileName(c));
    await writeFile(path, await encodeCase(c));

    // The file tifffile read is the one the writer makes today: same description and resolution tags.
    const fields = await fieldsOf(path);
    const description = fields.get(270);
    assert.equal(description?.kind === 'ascii' ? description.text.trimEnd() : undefined, seen.description);
    assert.deepEqual(fields.get(282), { kind: 'rationals', values: [seen.x_resolution] });
    assert.deepEqual(fields.get(283), { kind: 'rationals', values: [seen.y_resolution] });
    assert.deepEqual(fields.get(296), { kind: 'integers', values: [seen.resolution_unit] });
    assert.equal(seen.is_ome, c.format === 'ome-tiff');
    assert.equal(seen.is_imagej, c.format === 'tiff');

    assert.ok(seen.physical_size, 'tifffile found no pixel size');
    assert.ok(close(seen.physical_size.y, c.pixelSize.y) && close(seen.physical_size.x, c.pixelSize.x), `tifffile read ${JSON.stringify(seen.physical_size)}`);
    assert.equal(seen.pixels_sha256, sha256(c.pages), 'tifffile decodes the same pixels');

    const info = await inspectImage(path);
    assert.deepEqual(info.calibration, { pixelSize: c.pixelSize, problems: [] });
    assert.equal(info.pages, c.pages.length);
  });
}

for (const c of goldenCases.filter((c) => c.format === 'png')) {
  test(`Pillow reads the pixel size unetflow writes into ${fileName(c)}, to within pHYs's whole pixels per metre, and unetflow reads it exactly`, async () => {
    const seen = golden.written_by_unetflow[fileName(c)];
    const path = join(tmp, fileName(c));
    await writeFile(path, await encodeCase(c));
    // Half a pixel per metre of rounding: at most 0.5e-6 x size relative, 6e-8 for 0.1234 µm.
    const near = (a: number, b: number) => Math.abs(a - b) <= 0.5e-6 * b * b;
    assert.ok(seen.physical_size && near(seen.physical_size.y, c.pixelSize.y) && near(seen.physical_size.x, c.pixelSize.x), `Pillow read ${JSON.stringify(seen.physical_size)}`);
    assert.equal(seen.pixels_sha256, sha256(c.pages), 'Pillow decodes the same pixels');
    assert.deepEqual((await inspectImage(path)).calibration, { pixelSize: c.pixelSize, problems: [] });
  });
}

for (const [name, seen] of Object.entries(golden.written_by_tifffile)) {
  test(`unetflow reads the pixel size tifffile wrote into ${name}`, async () => {
    const path = `test/golden/pixel-size/${name}`;
    const info = await inspectImage(path);
    const size = info.calibration.pixelSize;
    assert.deepEqual(info.calibration.problems, []);
    assert.ok(size && seen.physical_size);
    assert.ok(close(size.y, seen.physical_size.y) && close(size.x, seen.physical_size.x), `unetflow read ${JSON.stringify(size)}, tifffile ${JSON.stringify(seen.physical_size)}`);
    const pages = await Promise.all(Array.from({ length: info.pages }, (_, p) => readImage(path, p, 'load', info)));
    assert.equal(sha256(pages), seen.pixels_sha256);
  });
}
