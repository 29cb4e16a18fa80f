import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Message, varint } from '../../../src/model/onnx/protobuf.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('varints are little-endian groups of seven bits with a continuation bit', () => {
  assert.equal(hex(varint(0)), '00');
  assert.equal(hex(varint(1)), '01');
  assert.equal(hex(varint(127)), '7f');
  assert.equal(hex(varint(128)), '8001');
  assert.equal(hex(varint(300)), 'ac02');
  assert.equal(hex(varint(2 ** 32)), '8080808010');
});

test('negative integers are ten-byte two\'s complement varints, as int64', () => {
  assert.equal(hex(varint(-1)), 'ffffffffffffffffff01');
  assert.equal(hex(varint(-2n)), 'feffffffffffffffff01');
});

test('fields are tagged with their number and wire type (the protobuf documentation\'s examples)', () => {
  // message Test1 { int32 a = 1; } with a = 150
  assert.equal(hex(new Message().int(1, 150).finish()), '089601');
  // message Test2 { string b = 2; } with b = "testing"
  assert.equal(hex(new Message().string(2, 'testing').finish()), '120774657374696e67');
  // message Test3 { Test1 c = 3; }
  assert.equal(hex(new Message().message(3, new Message().int(1, 150)).finish()), '1a03089601');
});

test('repeated integers are written unpacked, one tagged field each, and fields keep call order', () => {
  assert.equal(hex(new Message().ints(8, [1, 2, 300]).string(1, 'k').finish()), '4001' + '4002' + '40ac02' + '0a016b');
});

test('a nested message is written with its length and its bytes, and the length adds up', () => {
  const inner = new Message().bytes(9, Uint8Array.of(1, 2, 3));
  const outer = new Message().int(1, 7).message(5, inner).message(5, inner);
  assert.equal(inner.length, 5);
  assert.equal(outer.length, 2 + 2 * (2 + 5));
  assert.equal(hex(outer.finish()), '0807' + '2a054a03010203'.repeat(2));
});

test('bad field numbers and unsafe integers are refused', () => {
  assert.throws(() => new Message().int(0, 1), /field numbers start at 1, got 0/);
  assert.throws(() => varint(2 ** 53), /not a safe integer/);
  assert.throws(() => varint(1.5), /not a safe integer/);
});
