import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gridGeometry, sizeGrid } from '../../../src/model/bioimageio/axes.js';
import { transpose, cropTile } from '../../../src/model/bioimageio/layout.js';
import { openPackage } from '../../../src/model/bioimageio/package.js';
import { decodeRdf } from '../../../src/model/bioimageio/rdf.js';
import { geometryOfModel } from '../../../src/model/store.js';

const EXAMPLE = '../shared/data/bioimageio/unet2d_nuclei_broad';

function rdf(inputY: unknown, inputX: unknown, outputY: unknown, outputX: unknown, halo = 0) {
  const space = (id: string, size: unknown, h = 0) => ({ type: 'space', id, size, ...(h ? { halo: h } : {}) });
  return decodeRdf(
    {
      format_version: '0.5.4', type: 'model', name: 'test model',
      inputs: [{ id: 'raw', axes: [{ type: 'batch' }, { type: 'channel', channel_names: ['c'] }, space('y', inputY), space('x', inputX)] }],
      outputs: [{ id: 'out', axes: [{ type: 'batch' }, { type: 'channel', channel_names: ['p'] }, space('y', outputY, halo), space('x', outputX, halo)] }],
      weights: { onnx: { source: 'w.onnx', opset_version: 17 } },
    },
    'rdf.yaml',
  );
}
const ref = (axis: string, offset = 0) => ({ tensor_id: 'raw', axis_id: axis, offset });

test("the example package is a fixed 512 px input whose output keeps 448 px once its 32 px halo is cropped", () => {
  const pkg = openPackage(EXAMPLE);
  const grid = sizeGrid(pkg.rdf, pkg.where);
  assert.deepEqual(grid, { min: 512, step: 0, offset: 0, halo: 32 });
  assert.deepEqual(gridGeometry(grid, EXAMPLE), { kind: 'valid', input: 512, output: 448 });
  assert.throws(() => gridGeometry(grid, EXAMPLE, 256), /cannot take a 256 px tile; it takes only 512/);
});

test('geometryOfModel reads a package\'s geometry from its axes, as mirror and tile do', async () => {
  assert.deepEqual(await geometryOfModel(EXAMPLE), { kind: 'valid', input: 512, output: 448 });
});

test('{ min, step } inputs with an offset output give the largest tile up to 572 px, and any other size on the grid, aligned to the step', () => {
  const grid = sizeGrid(rdf({ min: 188, step: 16 }, { min: 188, step: 16 }, ref('y', -184), ref('x', -184)), 'p');
  assert.deepEqual(grid, { min: 188, step: 16, offset: -184, halo: 0 });
  assert.deepEqual(gridGeometry(grid, 'p'), { kind: 'valid', input: 572, output: 388, align: 16 });
  assert.deepEqual(gridGeometry(grid, 'p', 204), { kind: 'valid', input: 204, output: 20, align: 16 });
  assert.throws(() => gridGeometry(grid, 'p', 200), /cannot take a 200 px tile; it takes 188 \+ n \* 16, e\.g\. 188 or 204/);
});

test('y and x grids meet on their common sizes; what cannot be tiled square is refused, saying why', () => {
  assert.deepEqual(sizeGrid(rdf({ min: 64, step: 16 }, { min: 32, step: 32 }, ref('y'), ref('x')), 'p'), { min: 64, step: 32, offset: 0, halo: 0 });
  assert.throws(() => sizeGrid(rdf(256, 128, ref('y'), ref('x')), 'p'), /no square input fits both y \(256\) and x \(128\)/);
  assert.throws(() => sizeGrid(rdf(64, 64, ref('y'), ref('x'), 32), 'p'), /leaves no output after offset 0 and halo 32/);
  assert.throws(() => sizeGrid(rdf(64, 64, ref('y', -4), ref('x')), 'p'), /the output's y and x differ/);
});

test('transpose moves a tensor between NHWC and a package order by axis id, and cropTile cuts the halo', () => {
  // NHWC [1, 2, 2, 2]: pixel p channel c = 10 p + c.
  const nhwc = { data: Float32Array.of(0, 1, 10, 11, 20, 21, 30, 31), shape: [1, 2, 2, 2], axes: ['batch', 'y', 'x', 'channel'] };
  const nchw = transpose(nhwc, ['batch', 'channel', 'y', 'x']);
  assert.deepEqual(nchw.shape, [1, 2, 2, 2]);
  assert.deepEqual([...nchw.data], [0, 10, 20, 30, 1, 11, 21, 31]);
  assert.deepEqual([...transpose(nchw, nhwc.axes).data], [...nhwc.data]);
  assert.deepEqual(transpose(nhwc, ['channel', 'y', 'x', 'batch']).shape, [2, 2, 2, 1]);
  const tile = Float32Array.from({ length: 16 }, (_, i) => i); // 4x4, 1 channel
  assert.deepEqual([...cropTile(tile, 4, 1, 1)], [5, 6, 9, 10]);
});
