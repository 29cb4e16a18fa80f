import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, isGlob, isTemporaryName } from '../../src/io/glob.js';
import { folderQuery } from '../../src/io/folders.js';

test('glob patterns match as a shell would, case-insensitively', () => {
  const m = (p: string, s: string) => globToRegExp(p).test(s);
  assert.ok(m('*.png', 'a.png') && m('*.png', 'A.PNG') && !m('*.png', 'sub/a.png'));
  assert.ok(m('**/*.tif', 'a.tif') && m('**/*.tif', 'x/y/a.tif'));
  assert.ok(m('*.{png,tif}', 'a.tif') && !m('*.{png,tif}', 'a.jpg'));
  assert.ok(m('[01][0-9].png', '07.png') && m('[01][0-9].png', '19.png') && !m('[01][0-9].png', '20.png'));
  assert.ok(m('[!2]?.png', '19.png') && !m('[!2]?.png', '21.png'));
  assert.ok(m('slice?.png', 'slice1.png') && !m('slice?.png', 'slice12.png'));
});

test('a source path is split at its first folder with glob characters', () => {
  assert.deepEqual(folderQuery('data/**/*.png', '/base'), { dir: '/base/data', pattern: '**/*.png', recursive: true });
  assert.deepEqual(folderQuery('data/[01]*.png', '/base'), { dir: '/base/data', pattern: '[01]*.png', recursive: false });
  assert.deepEqual(folderQuery('/abs/dir', '/base'), { dir: '/abs/dir' });
  assert.ok(isGlob('a/*.png') && !isGlob('a/b.png'));
});

test('names that tools use while writing are temporary', () => {
  for (const name of ['.a.png', '~a.png', 'a.png.tmp', 'a.png.part', 'a.png.crdownload', 'a.png~']) assert.ok(isTemporaryName(name), name);
  assert.ok(!isTemporaryName('a.png'));
});
