import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Thumbnails } from '../../src/serve/thumbnails.js';
import { tempDir, writePng } from '../helpers/files.js';

const served = async (path: string) => {
  const s = await stat(path);
  return { path, size: s.size, mtimeMs: s.mtimeMs };
};

test('a thumbnail is a WebP no larger than its size, made once and then taken from the cache', async () => {
  const dir = await tempDir();
  const big = join(dir, 'big.png');
  await writePng(big, 1, 600);
  const thumbs = new Thumbnails({ size: 128 });
  const [first, second] = await Promise.all([thumbs.get(await served(big)), thumbs.get(await served(big))]);
  const meta = await sharp(first).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 128, 128]);
  assert.equal(second, first, 'two requests at once share one thumbnail');
  assert.equal(thumbs.made, 1);
  await thumbs.get(await served(big));
  assert.equal(thumbs.made, 1);
  // A small image keeps its size.
  const small = join(dir, 'small.png');
  await writePng(small, 2, 40);
  assert.equal((await sharp(await thumbs.get(await served(small))).metadata()).width, 40);
});

test('a changed file gets a new thumbnail; the cache keeps at most maxEntries, the least recently used going first', async () => {
  const dir = await tempDir();
  const paths = ['a', 'b', 'c'].map((n) => join(dir, `${n}.png`));
  for (const [i, p] of paths.entries()) await writePng(p, i, 32);
  const thumbs = new Thumbnails({ maxEntries: 2 });
  await thumbs.get(await served(paths[0]));
  await thumbs.get(await served(paths[1]));
  await thumbs.get(await served(paths[0])); // a is now the most recent
  await thumbs.get(await served(paths[2])); // evicts b
  assert.equal(thumbs.entries, 2);
  assert.equal(thumbs.made, 3);
  await thumbs.get(await served(paths[0]));
  assert.equal(thumbs.made, 3, 'a stayed');
  await thumbs.get(await served(paths[1]));
  assert.equal(thumbs.made, 4, 'b was evicted');
  await writePng(paths[0], 9, 32);
  await utimes(paths[0], new Date(), new Date(Date.now() + 5000));
  await thumbs.get(await served(paths[0]));
  assert.equal(thumbs.made, 5, 'a changed');
});

test('a file sharp cannot read is refused, and not cached', async () => {
  const dir = await tempDir();
  const bad = join(dir, 'bad.png');
  await writeFile(bad, 'not an image');
  const thumbs = new Thumbnails();
  await assert.rejects(thumbs.get(await served(bad)));
  assert.equal(thumbs.entries, 0);
});
