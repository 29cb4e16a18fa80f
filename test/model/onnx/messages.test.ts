import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatTensor, floatValueInfo, int64Tensor, model, node } from '../../../src/model/onnx/messages.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('a node holds its inputs, outputs, name and operator, then its attributes', () => {
  // input 'x' (field 1), output 'y' (2), name 'r' (3), op_type 'Relu' (4)
  assert.equal(hex(node('Relu', 'r', ['x'], ['y']).finish()), '0a0178' + '120179' + '1a0172' + '220452656c75');
});

test('int attributes carry their type (INT = 2) in field 20, ints are repeated (INTS = 7)', () => {
  const axis = '0a0461786973' + '1801' + 'a00102'; // name 'axis', i = 1, type = INT
  assert.equal(hex(node('Softmax', 's', ['a'], ['b'], { axis: 1 }).finish()), '0a0161' + '120162' + '1a0173' + '2207536f66746d6178' + '2a0b' + axis);
  const strides = '0a0773747269646573' + '4002' + '4002' + 'a00107'; // name 'strides', ints 2, 2, type = INTS
  assert.ok(hex(node('MaxPool', 'p', ['a'], ['b'], { strides: [2, 2] }).finish()).endsWith('2a10' + strides));
});

test('tensors store dims, data type, name and little-endian raw data', () => {
  // dims [2], FLOAT (1), name 'w', raw 1.0f and -2.0f
  assert.equal(hex(floatTensor('w', [2], Float32Array.of(1, -2)).finish()), '0802' + '1001' + '420177' + '4a08' + '0000803f' + '000000c0');
  // dims [1], INT64 (7), name 's', raw -1
  assert.equal(hex(int64Tensor('s', [-1]).finish()), '0801' + '1007' + '420173' + '4a08' + 'ff'.repeat(8));
  assert.throws(() => floatTensor('w', [2, 2], Float32Array.of(1)), /ONNX tensor 'w': 1 values for dims \[2,2\]/);
});

test('value infos give a float tensor type with named (dynamic) or fixed dimensions', () => {
  const shape = '0a0312016e' + '0a020803'; // dim_param 'n', dim_value 3
  const tensorType = '0801' + '1209' + shape;
  assert.equal(hex(floatValueInfo('x', ['n', 3]).finish()), '0a0178' + '120f' + '0a0d' + tensorType);
});

test('a model starts with IR version 8 and imports opset 17 of the default domain', () => {
  const bytes = hex(model({ name: 'g', nodes: [], initializers: [], inputs: [], outputs: [] }, { name: 'p', version: 'v' }).finish());
  assert.ok(bytes.startsWith('0808' + '120170' + '1a0176'), bytes);
  assert.ok(bytes.endsWith('3a03120167' + '4204' + '0a00' + '1011'), bytes); // graph 'g', then opset {domain '', version 17}
});
