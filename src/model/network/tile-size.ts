/**
 * Tile sizes chosen per image (`tile: { size: auto }`): of the input sizes the network
 * accepts, the one whose tiling of the image costs the fewest FLOPs (flops.ts), among
 * those whose forward pass fits a memory budget (engines/choice.ts). A network with valid
 * padding computes the same probabilities whatever the tiling (each output pixel
 * depends only on its receptive field), so the choice only changes speed and memory:
 * a 512 px slice gets one 700 px tile (516 px out) instead of four of 572 (388 out),
 * 2.4x less arithmetic; a 2048 px image nine of 876 (0.69x the FLOPs of 572 px tiles).
 */
import { tileGrid, tileStarts, tileStride, type BlendWindow, type TileGeometry, type TileGrid } from '../../kernels/tiling.js';
import { forwardFlops, type NetworkLayers } from './flops.js';
import { margin, validSizes } from './geometry.js';
import { predictionPeakBytes } from './peak-bytes.js';

/** A tile geometry left open until the image's size is known. */
export interface AutoTiling {
  readonly kind: 'auto';
  readonly network: NetworkLayers;
  /** Tensor bytes one tile's forward pass may hold (memoryBudget of the engine). */
  readonly budgetBytes: number;
  /** Same-padded networks: overlap and blending window, kept whatever the tile size. */
  readonly overlap?: number;
  readonly window?: BlendWindow;
}

/** A fixed geometry, or one chosen per image. */
export type TilePlan = TileGeometry | AutoTiling;

export interface TileChoice {
  readonly geometry: TileGeometry;
  readonly tiles: number;
  /** FLOPs of all the tiles' forward passes (one augmentation pass). */
  readonly flops: number;
  /** Peak tensor bytes of one tile's prediction (peak-bytes.ts, dihedral augmentation). */
  readonly peakBytes: number;
}

/**
 * Tilings within this fraction of the fewest FLOPs count as equally cheap, and the
 * smallest tile among them is taken: large tiles run less efficiently per FLOP (ONNX
 * Runtime here: 258 GFLOP/s at 572 px, 202 at 700, about 160 at 1212) and hold more
 * memory, so one 2236 px tile of a 2048 px image (411 GFLOP, ~1 GiB of tensors) or
 * four of 1212 (437 GFLOP) lose to nine of 876 (472 GFLOP, an eighth of the memory).
 */
export const FLOP_SLACK = 0.15;

/**
 * The geometry for a `height` x `width` image whose tiling costs the fewest forward
 * FLOPs (square tiles), within `plan.budgetBytes`: for a valid network the smallest tile
 * within FLOP_SLACK of the minimum. Where even the smallest tile exceeds the budget the smallest is
 * taken, and the predictor cuts it into bands or reports it.
 */
export function chooseTiles(height: number, width: number, plan: AutoTiling): TileChoice {
  const { network, budgetBytes } = plan;
  const longest = Math.max(height, width);
  const options: TileChoice[] = [];
  const scale = 2 ** network.depth;
  // A tile smaller than this is no tile (a valid network's output under its pooling step,
  // a same-padded tile within its overlap): an image smaller than it gets the first that is.
  const least = network.padding === 'valid' ? scale : (plan.overlap ?? 0) + 1;
  for (const size of candidates(network, Math.max(longest, least))) {
    const geometry: TileGeometry =
      network.padding === 'valid'
        ? { kind: 'valid', input: size.input, output: size.output, align: scale }
        : { kind: 'same', tile: size.input, overlap: plan.overlap ?? 0, window: plan.window ?? 'gaussian' };
    if (geometry.kind === 'same' ? geometry.overlap >= geometry.tile : geometry.output < scale) continue;
    // Every prediction's tensors scale with the tile's area: the first too large ends the search.
    const peakBytes = predictionPeakBytes(network, size.input, size.input, 'dihedral');
    if (options.length > 0 && peakBytes > budgetBytes) break;
    const { stride } = tileStride(geometry);
    const tiles = tileStarts(height, size.output, stride).length * tileStarts(width, size.output, stride).length;
    const flops = tiles * forwardFlops(network, size.input);
    options.push({ geometry, tiles, flops, peakBytes });
  }
  const fewest = Math.min(...options.map((o) => o.flops));
  // Candidates come smallest first. Same-padded networks take the fewest FLOPs outright:
  // their blended results change with the tiling, so fewer seams are worth having.
  const slack = network.padding === 'valid' ? FLOP_SLACK : 0;
  return options.find((o) => o.flops <= fewest * (1 + slack))!;
}

/** Valid sizes from the smallest up to the first whose output covers `longest` px. */
function candidates(network: NetworkLayers, longest: number) {
  // Outputs step by 2^depth: the first covering one is below longest + that step.
  const sizes = validSizes(network, longest + 2 * margin(network) + 2 ** network.depth);
  const last = sizes.findIndex((s) => s.output >= longest);
  return last < 0 ? sizes : sizes.slice(0, last + 1);
}

/** The tile grid of a `height` x `width` image under a fixed or automatic plan. */
export function planGrid(height: number, width: number, plan: TilePlan): TileGrid {
  return tileGrid(height, width, plan.kind === 'auto' ? chooseTiles(height, width, plan).geometry : plan);
}
