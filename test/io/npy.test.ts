import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readNpy, writeNpy } from '../../src/io/npy.js';

// Written by numpy 2.4 (np.save): a (2, 3) uint8 arange and a (2,) float32 [1.5, -2].
const NUMPY_U1 =
  '934e554d5059010076007b276465736372273a20277c7531272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000102030405';
const NUMPY_F4 =
  '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f000000c0';
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

test('readNpy reads the type, shape and values numpy wrote', () => {
  const u1 = readNpy(hex(NUMPY_U1));
  assert.equal(u1.type, 'u1');
  assert.deepEqual(u1.shape, [2, 3]);
  assert.deepEqual([...u1.data], [0, 1, 2, 3, 4, 5]);
  const f4 = readNpy(hex(NUMPY_F4));
  assert.deepEqual(f4.shape, [2]);
  assert.deepEqual([...f4.data], [1.5, -2]);
});

test('writeNpy writes the bytes numpy writes, its 64-byte header alignment included', () => {
  assert.equal(Buffer.from(writeNpy({ type: 'u1', shape: [2, 3], data: Uint8Array.of(0, 1, 2, 3, 4, 5) })).toString('hex'), NUMPY_U1);
  assert.equal(Buffer.from(writeNpy({ type: 'f4', shape: [2], data: Float32Array.of(1.5, -2) })).toString('hex'), NUMPY_F4);
  const example = readFileSync('../shared/data/bioimageio/unet2d_nuclei_broad/test_input.npy');
  const parsed = readNpy(example);
  assert.deepEqual(parsed.shape, [1, 1, 512, 512]);
  assert.ok(Buffer.from(writeNpy(parsed)).equals(example), 'the bioimage.io example test tensor round-trips byte for byte');
});

test('readNpy refuses what it cannot read, saying what', () => {
  assert.throws(() => readNpy(Uint8Array.of(1, 2, 3), 'x.npy'), /x\.npy: not a \.npy file/);
  const big = Buffer.from(NUMPY_F4.replace(Buffer.from("'<f4'").toString('hex'), Buffer.from("'>f4'").toString('hex')), 'hex');
  assert.throws(() => readNpy(big, 'b.npy'), /b\.npy: big-endian/);
  const short = hex(NUMPY_U1).subarray(0, 130);
  assert.throws(() => readNpy(short, 's.npy'), /s\.npy: shape \(2,3\) needs 6 data bytes, the file has 2/);
});
