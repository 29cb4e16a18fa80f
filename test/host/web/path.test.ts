import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { test } from 'node:test';
import * as page from '../../../src/web/host/path.js';

const CASES = ['/pipelines/demo.yaml', '/pipelines/../models/isbi2012-em', 'a/b/../c/', '/', '.', '', 'x.tar.gz', '/a//b/./c', '../x', '.hidden', '/models/m/'];

test("the page's path functions agree with node:path's POSIX ones", () => {
  for (const p of CASES) {
    assert.equal(page.normalize(p || '.'), posix.normalize(p || '.'), `normalize ${p}`);
    assert.equal(page.dirname(p), posix.dirname(p), `dirname ${p}`);
    assert.equal(page.basename(p), posix.basename(p), `basename ${p}`);
    assert.equal(page.extname(p), posix.extname(p), `extname ${p}`);
    assert.equal(page.isAbsolute(p), posix.isAbsolute(p), `isAbsolute ${p}`);
    assert.equal(page.resolve('/pipelines', p), posix.resolve('/pipelines', p), `resolve /pipelines ${p}`);
    assert.equal(page.join('/out', p), posix.join('/out', p), `join /out ${p}`);
    assert.equal(page.relative('/in', `/in/${p}`), posix.relative('/in', `/in/${p}`), `relative ${p}`);
  }
  assert.equal(page.basename('/a/slice.png', '.png'), 'slice');
  assert.equal(page.resolve('/a', '/b', 'c'), '/b/c');
});
