/**
 * Multi-channel and z/t TIFFs through the binary: an OME-TIFF and an ImageJ hyperstack,
 * written page by page with their descriptions (test/io/described-tiff.ts), come out
 * as one sample per z/t plane with the channels interleaved, named by the plane, and
 * a description that does not fit the pages fails naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readImage } from '../../src/io/read.js';
import { describedTiff, omeDescription, type DescribedPage } from '../io/described-tiff.js';
import { tempDir } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');
const [W, H] = [5, 4];
/** Page `p` of a file: every pixel says its page and position, so a wrong page shows. */
const page = (p: number): DescribedPage => ({ width: W, height: H, data: Uint8Array.from({ length: W * H }, (_, i) => (p * 20 + i) % 256) });

async function run(file: string, bytes: Buffer, load: string) {
  const dir = await tempDir('unetflow-dims-');
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', file), bytes);
  await writeFile(join(dir, 'p.yaml'), `version: 1\nname: dims\nsource: { files: in }\nsteps:\n  - load: ${load}\n  - save: { dir: out, outputs: [image] }\n`);
  const r = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '--json'], { encoding: 'utf8' });
  const events = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { dir, status: r.status, stderr: r.stderr, events };
}

/** Which page each channel of the saved image came from, checking that it holds that page whole. */
async function pagesOf(path: string): Promise<number[][]> {
  const image = await readImage(path);
  const out: number[][] = [];
  for (let c = 0; c < image.channels; c++) {
    const values = Array.from({ length: W * H }, (_, i) => image.data[i * image.channels + c]);
    const p = (values[0] as number) / 20;
    assert.deepEqual(values, Array.from(page(p).data), `channel ${c} of ${path} is one whole page`);
    out.push([p]);
  }
  return out;
}

test('a 3-channel OME-TIFF with load channels: 3 gives one 3-channel sample per z/t plane, named by z and t', async () => {
  // DimensionOrder XYZCT: z fastest over the pages, then c, then t; 3 channels x 2 z x 2 t = 12 pages.
  const pages = Array.from({ length: 12 }, (_, p) => page(p));
  const { dir, status, stderr, events } = await run('cells.ome.tif', describedTiff(pages, omeDescription({ c: 3, z: 2, t: 2, order: 'XYZCT', width: W, height: H })), '{ channels: 3 }');
  try {
    assert.equal(status, 0, stderr);
    const names = ['cells.ome.z0.t0', 'cells.ome.z1.t0', 'cells.ome.z0.t1', 'cells.ome.z1.t1'];
    assert.deepEqual((await readdir(join(dir, 'out'))).sort(), names.map((n) => `${n}.image.png`).sort());
    for (const [z, t] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      // page = z + 2 * (c + 3 * t)
      assert.deepEqual(await pagesOf(join(dir, 'out', `cells.ome.z${z}.t${t}.image.png`)), [0, 1, 2].map((c) => [z + 2 * (c + 3 * t)]), `z${z} t${t}`);
    }
    const note = events.find((e) => e.type === 'log' && /OME-XML/.test(e.message));
    assert.match(note.message, /cells\.ome\.tif: 3 channels x 2 z x 2 t \(OME-XML\): 4 samples, cells\.ome\.z0\.t0 \.\.\. cells\.ome\.z1\.t1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an ImageJ TZCYX hyperstack gives a sample per z/t plane, and load channels: [2, 0, 1] or channel: 1 keeps those channels', async () => {
  // ImageJ's order: channel fastest, then slice, then frame; 3 channels x 2 slices x 2 frames = 12 pages.
  const description = 'ImageJ=1.11a\nimages=12\nchannels=3\nslices=2\nframes=2\nhyperstack=true\nmode=grayscale\nloop=false\n';
  const pages = Array.from({ length: 12 }, (_, p) => page(p));
  const picked = await run('stack.tif', describedTiff(pages, description), '{ channels: [2, 0, 1] }');
  const one = await run('stack.tif', describedTiff(pages, description), '{ channel: 1 }');
  try {
    for (const r of [picked, one]) assert.equal(r.status, 0, r.stderr);
    const planes = [0, 1].flatMap((t) => [0, 1].map((z) => ({ z, t })));
    for (const r of [picked, one]) assert.deepEqual((await readdir(join(r.dir, 'out'))).sort(), planes.map(({ z, t }) => `stack.z${z}.t${t}.image.png`).sort());
    for (const { z, t } of planes) {
      const name = `stack.z${z}.t${t}.image.png`;
      const first = 3 * (z + 2 * t); // page of channel 0
      assert.deepEqual(await pagesOf(join(picked.dir, 'out', name)), [[first + 2], [first], [first + 1]], name);
      assert.deepEqual(await pagesOf(join(one.dir, 'out', name)), [[first + 1]], name);
    }
    const note = one.events.find((e) => e.type === 'log' && /ImageJ/.test(e.message));
    assert.match(note.message, /stack\.tif: 3 channels x 2 z x 2 t \(ImageJ description\): 4 samples, stack\.z0\.t0 \.\.\. stack\.z1\.t1, keeping channel 1/);
  } finally {
    for (const r of [picked, one]) await rm(r.dir, { recursive: true, force: true });
  }
});

test('a description whose sizes do not multiply to the pages fails that file, naming it and the sizes', async () => {
  const pages = Array.from({ length: 10 }, (_, p) => page(p));
  const { dir, status, events } = await run('short.ome.tif', describedTiff(pages, omeDescription({ c: 3, z: 4, t: 1, width: W, height: H })), '{ channels: 3 }');
  try {
    assert.equal(status, 1);
    const [failed] = events.filter((e) => e.type === 'file-failed');
    assert.match(failed.message, /load: .*in\/short\.ome\.tif: its OME-XML describes SizeC=3 x SizeZ=4 x SizeT=1 = 12 pages, but the file has 10: expected one page per channel of each z\/t plane/);
    assert.deepEqual(await readdir(join(dir, 'out')), ['short.ome.error.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
