import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../../src/model/engines/choice.js';
import { cropMargins, exportUNet, INPUT_NAME, OUTPUT_NAME } from '../../../src/model/onnx/export.js';
import { loadOnnxRuntime, sessionOptions } from '../../../src/model/engines/onnxruntime.js';
import { predictProbabilities } from '../../../src/model/inference/predict.js';
import { UNet, unetConfig, type UNetConfig } from '../../../src/model/network/unet.js';
import { createRng } from '../../../src/random.js';
import { needs } from '../../helpers/optional.js';
import { maxDifference, network } from './helpers.js';

function weightArrays(net: UNet): Map<string, Float32Array> {
  return new Map([...net.weights].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
}

function nhwcToNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) out[(b * c + k) * h * w + i] = x[(b * h * w + i) * c + k];
  return out;
}

test('the skip crops are the paper\'s (568 -> 392 at the top level) and none with same padding', () => {
  assert.deepEqual(cropMargins(unetConfig({ depth: 4 })), [88, 40, 16, 4]);
  assert.deepEqual(cropMargins(unetConfig({ depth: 2 })), [16, 4]);
  assert.deepEqual(cropMargins(unetConfig({ depth: 3, padding: 'same' })), [0, 0, 0]);
  assert.deepEqual(cropMargins(unetConfig({ depth: 0 })), []);
});

test('the exported model gives the tfjs probabilities, valid and same padding, depths 0 to 2, one session for every tile size', needs('onnxruntime-node'), async () => {
  await useBackend('wasm');
  const ort = await loadOnnxRuntime();
  const cases: [Partial<UNetConfig>, number[]][] = [
    [{ depth: 0, padding: 'valid' }, [9, 12]],
    [{ depth: 1, padding: 'valid' }, [20, 36]],
    [{ depth: 2, padding: 'valid' }, [44, 60]],
    [{ depth: 1, padding: 'same' }, [8, 18]],
    [{ depth: 2, padding: 'same' }, [16, 28]],
  ];
  for (const [i, [partial, sizes]] of cases.entries()) {
    const config = { ...partial, baseFilters: 4, classes: 3, inputChannels: 2 };
    const net = network(config, 10 + i);
    const session = await ort.createSession(exportUNet(net.config, weightArrays(net), `case ${i}`), sessionOptions(2));
    try {
      for (const size of sizes) {
        const out = net.sizeMap(size).output;
        const rng = createRng(size);
        const x = Float32Array.from({ length: 2 * size * size * 2 }, () => rng.next());
        const expected = await predictProbabilities(net, x, 2, size);
        const result = await session.run({ [INPUT_NAME]: ort.floatTensor(nhwcToNchw(x, 2, size, size, 2), [2, 2, size, size]) });
        assert.deepEqual(result[OUTPUT_NAME].dims, [2, 3, out, out]);
        const got = nhwcToNchw(expected, 2, out, out, 3); // compare in ONNX's layout
        const d = maxDifference(result[OUTPUT_NAME].data as Float32Array, got);
        assert.ok(d < 1e-4, `${JSON.stringify(partial)} at ${size} px: max difference ${d}`);
      }
    } finally {
      await session.release();
      net.dispose();
    }
  }
});

test('export names the model and the weight it lacks or cannot use', () => {
  const config = unetConfig({ depth: 1, baseFilters: 2 });
  const net = UNet.create(config, 1);
  const weights = weightArrays(net);
  net.dispose();
  weights.delete('up0/upconv/kernel');
  assert.throws(() => exportUNet(config, weights, 'models/x'), /ONNX export of models\/x: the weights lack 'up0\/upconv\/kernel'/);
  weights.set('up0/upconv/kernel', new Float32Array(3));
  assert.throws(() => exportUNet(config, weights, 'models/x'), /ONNX export of models\/x: 'up0\/upconv\/kernel' has 3 values, \[4,8\] needs 32/);
});
