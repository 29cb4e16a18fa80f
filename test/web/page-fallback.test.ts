/**
 * A browser without a folder picker (Firefox, Safari): the page offers a file input for
 * the images, copies them into its private folder for the runner, and says the outputs
 * come as downloads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { needsBuiltApp, openAppPage, until } from './app-page.js';

const SLICES = ['00.png', '01.png', '02.png'].map((f) => resolve('fixtures/isbi2012/test', f));

test('without showDirectoryPicker the page takes images through a file input, keeps them for the job byte for byte, and says the outputs come as downloads', { ...needsBuiltApp(), timeout: 180_000 }, async () => {
  const { page, close } = await openAppPage({ withoutFolderPicker: true });
  try {
    assert.equal(await page.locator('#pick-input').isVisible(), false);
    assert.equal(await page.locator('#input-files').isVisible(), true);
    assert.equal(await page.locator('#folder-note').textContent(), 'This browser cannot write into a folder: the outputs are offered as downloads when the job ends.');
    assert.equal(await page.locator('#output-chosen').textContent(), 'downloads');
    // A webkitdirectory input: the folder is chosen, its files come with paths below it.
    await page.setInputFiles('#input-files', resolve('fixtures/isbi2012/test'));
    await until(page, () => document.querySelector('#input-chosen')?.textContent === '3 files', 'the files to be taken');
    const kept = await page.evaluate(async () => {
      const inputs = await (await navigator.storage.getDirectory()).getDirectoryHandle('inputs');
      const out: Record<string, number[]> = {};
      for await (const [, folder] of (inputs as unknown as { entries(): AsyncIterable<[string, FileSystemDirectoryHandle]> }).entries()) {
        for await (const [name, file] of (folder as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }).entries()) {
          out[name] = [...new Uint8Array(await (await file.getFile()).arrayBuffer())];
        }
      }
      return out;
    });
    assert.deepEqual(Object.keys(kept).sort(), ['00.png', '01.png', '02.png']);
    for (const path of SLICES) assert.ok(Buffer.from(kept[path.slice(-6)]).equals(await readFile(path)), `${path.slice(-6)} kept as it is`);
    await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the Quick start to be valid');
    assert.equal(await page.locator('#start').isDisabled(), false, 'the job can start with no output folder');
  } finally {
    await close();
  }
});
