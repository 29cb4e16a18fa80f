/** Shared by the training-graph tests: the graph's loss and gradients for a batch, in tfjs's layouts. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { OnnxRuntime } from '../../../../src/model/engines/onnxruntime.js';
import { sessionOptions } from '../../../../src/model/engines/onnxruntime.js';
import { batchFeeds } from '../../../../src/model/engines/onnxruntime-trainer.js';
import type { UNet } from '../../../../src/model/network/unet.js';
import { trainingGraph } from '../../../../src/model/onnx/training/graph.js';
import { toOnnx, toTfjs, weightLayouts } from '../../../../src/model/onnx/training/layout.js';
import type { Batch } from '../../../../src/model/training/trainer.js';
import { dropoutSeeds } from '../../../../src/model/training/trainer.js';

/** Loss and gradients of `net` on `batch` from the graph, with the dropout seeds the tfjs trainer of seed 0 at step 0 draws. */
export async function graphGradients(ort: OnnxRuntime, net: UNet, batch: Batch, frozen: readonly string[] = []): Promise<{ loss: number; gradients: Map<string, Float32Array>; nodes: number }> {
  const graph = trainingGraph(net.config, { batch: batch.count, size: batch.inputSize, frozen });
  const session = await ort.createSession(graph.bytes, sessionOptions(1));
  try {
    const feeds = batchFeeds(ort, net, graph, batch, batch.dropoutSeeds ?? dropoutSeeds(0, 0, batch.count));
    const layouts = weightLayouts(net.config);
    for (const l of layouts) feeds[l.name] = ort.floatTensor(toOnnx(l, net.weights.get(l.name)!.dataSync() as Float32Array), l.onnxShape);
    const out = await session.run(feeds);
    const gradients = new Map<string, Float32Array>();
    for (const l of layouts) if (!frozen.includes(l.name)) gradients.set(l.name, toTfjs(l, out[`gradient/${l.name}`].data as Float32Array));
    return { loss: (out.loss.data as Float32Array)[0], gradients, nodes: graph.nodeCount };
  } finally {
    await session.release();
  }
}

/** Largest |a - b| over the largest |b|. */
export function relativeDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? d : d / scale;
}

/** Asserts every named array of `actual` is within `tolerance` (relative) of `expected`'s, reporting the worst. */
export function assertClose(t: TestContext, what: string, actual: ReadonlyMap<string, Float32Array>, expected: ReadonlyMap<string, Float32Array>, tolerance: number): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  let worst = { name: '', value: 0 };
  const over: string[] = [];
  for (const [name, e] of expected) {
    const d = relativeDifference(actual.get(name)!, e);
    if (d > worst.value) worst = { name, value: d };
    if (!(d <= tolerance)) over.push(`${name}: ${d.toExponential(2)}`);
  }
  t.diagnostic(`${what}: largest relative difference ${worst.value.toExponential(2)} (${worst.name})`);
  assert.deepEqual(over, [], `${what} beyond ${tolerance} relative`);
}
