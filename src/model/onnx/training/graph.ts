/**
 * One training step of a U-Net as one ONNX graph: forward, the weighted loss, the
 * backward pass and the optimiser update, for a fixed batch and tile size (shapes are
 * static: one graph per size, which the runner builds when a size first comes).
 *
 * Inputs: `image` [N, C, S, S]; `labels` one-hot [N, K, O, O]; `weights` [N, 1, O, O];
 * `dropout` [N, C', B, B] (the multiplier at the bottom of the network, when the
 * network has dropout); `learningRate` (a scalar); for Adam `c1`, `c2` (1 − β^t);
 * every weight by its name in ONNX's layout (layout.ts); the optimiser state of the
 * trained ones (optimiser.ts's names).
 * Outputs: `loss`; `new/<weight>` and the new optimiser state of each trained weight;
 * with `gradients`, `gradient/<weight>` too. Frozen weights get neither gradient nor
 * state nor update. Without an optimiser the graph gives the loss and gradients only.
 */
import { sizeMap } from '../../network/geometry.js';
import type { UNetConfig } from '../../network/unet.js';
import { cropMargins } from '../export.js';
import { model } from '../messages.js';
import { GraphBuilder } from './builder.js';
import { concat, conv, crop, dropout, maxPool, relu, upConv } from './layers.js';
import { weightedCrossEntropy } from './loss.js';
import { stateNames, update, type GraphOptimizer } from './optimiser.js';
import { Tape } from './tape.js';
import { weightLayouts } from './layout.js';

export interface TrainingGraphOptions {
  /** Tiles per step. */
  readonly batch: number;
  /** Side of the square input tiles, px. */
  readonly size: number;
  /** The update; without it the graph computes the loss and gradients only. */
  readonly optimizer?: GraphOptimizer;
  /** Weights that are not trained. @default none */
  readonly frozen?: readonly string[];
  /** Also output every trained weight's gradient beside the update (a graph without an optimiser always does). @default false */
  readonly gradients?: boolean;
}

export interface TrainingGraph {
  readonly bytes: Uint8Array;
  readonly nodeCount: number;
  /** The trained weights, in the network's order. */
  readonly trained: readonly string[];
  /** Side of the output (labels and weight map), px. */
  readonly outputSize: number;
  /** Shape of the dropout input, when there is one. */
  readonly dropoutShape?: readonly number[];
}

export function trainingGraph(config: UNetConfig, options: TrainingGraphOptions): TrainingGraph {
  const { batch: n, size, optimizer } = options;
  const out = sizeMap(size, config).output; // throws naming the nearest valid sizes
  const frozen = new Set(options.frozen ?? []);
  const g = new GraphBuilder();
  const t = new Tape(g);
  const layouts = weightLayouts(config);
  for (const l of layouts) {
    g.input(l.name, l.onnxShape);
    if (!frozen.has(l.name)) t.track(l.name);
  }
  const trained = layouts.filter((l) => !frozen.has(l.name)).map((l) => l.name);
  if (trained.length === 0) throw new RangeError('every weight is frozen: nothing to train');

  const image = g.input('image', [n, config.inputChannels, size, size]);
  const labels = g.input('labels', [n, config.classes, out, out]);
  const pixelWeights = g.input('weights', [n, 1, out, out]);
  const pad = config.padding === 'same' ? 1 : 0;
  const layer = (x: string, name: string, activate = true) => {
    const y = conv(t, x, `${name}/kernel`, `${name}/bias`, name === 'head' ? 0 : pad);
    return activate ? relu(t, y) : y;
  };

  const skips: string[] = [];
  let x = image;
  for (let level = 0; level < config.depth; level++) {
    x = layer(layer(x, `down${level}/conv1`), `down${level}/conv2`);
    skips.push(x);
    x = maxPool(t, x);
  }
  x = layer(layer(x, `down${config.depth}/conv1`), `down${config.depth}/conv2`);
  let dropoutShape: number[] | undefined;
  if (config.dropout > 0) {
    dropoutShape = [...g.shape(x)];
    x = dropout(t, x, g.input('dropout', dropoutShape));
  }
  const margins = cropMargins(config);
  for (let level = config.depth - 1; level >= 0; level--) {
    const up = upConv(t, x, `up${level}/upconv/kernel`, `up${level}/upconv/bias`);
    x = concat(t, crop(t, skips[level], margins[level]), up);
    x = layer(layer(x, `up${level}/conv1`), `up${level}/conv2`);
  }
  const logits = layer(x, 'head', false);
  const { loss, gradient } = weightedCrossEntropy(g, logits, labels, pixelWeights);
  g.output('loss', loss);
  const gradients = t.backward(logits, gradient, trained);

  if (optimizer) {
    const rate = g.input('learningRate', []);
    const negativeRate = g.op('Neg', [rate], []);
    const corrections = optimizer.kind === 'adam' ? { c1: g.input('c1', []), c2: g.input('c2', []) } : undefined;
    for (const name of trained) {
      for (const s of stateNames(optimizer, name).inputs) g.input(s, g.shape(name));
      const next = update(g, optimizer, name, gradients.get(name)!, negativeRate, corrections);
      g.output(`new/${name}`, next.weight);
      stateNames(optimizer, name).outputs.forEach((s, i) => g.output(s, next.state[i]));
    }
  }
  if (!optimizer || options.gradients) for (const name of trained) g.output(`gradient/${name}`, gradients.get(name)!);

  const bytes = model(g.graph(`unet-train-${n}x${size}`), { name: 'unetflow', version: 'unet-train-1' }).finish();
  return { bytes, nodeCount: g.nodes.length, trained, outputSize: out, ...(dropoutShape ? { dropoutShape } : {}) };
}
