/**
 * Tile sizes chosen per image (`tile: { size: auto }`): of the input sizes the network
 * accepts, the one whose tiling of the image costs the fewest FLOPs (flops.ts), among
 * those whose forward pass fits a memory budget (memory.ts). A network with valid
 * padding computes the same probabilities whatever the tiling (each output pixel
 * depends only on its receptive field), so the choice only changes speed and memory:
 * a 512 px slice gets one 700 px tile (516 px out) instead of four of 572 (388 out),
 * 2.4x less arithmetic.
 */
import { tileGrid, tileStarts, tileStride, type BlendWindow, type TileGeometry, type TileGrid } from '../kernels/tiling.js';
import { forwardFlops, type NetworkLayers } from './flops.js';
import { margin, validSizes } from './geometry.js';
import { predictionPeakBytes } from './memory.js';

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
  /** Peak tensor bytes of one tile's prediction (memory.ts, dihedral augmentation). */
  readonly peakBytes: number;
}

/**
 * The geometry for a `height` x `width` image that minimises the forward FLOPs of its
 * tiling (square tiles; the fewer tiles on a tie) within `plan.budgetBytes`. Where even
 * the smallest tile exceeds the budget the smallest is taken, and the predictor cuts it
 * into bands or reports it.
 */
export function chooseTiles(height: number, width: number, plan: AutoTiling): TileChoice {
  const { network, budgetBytes } = plan;
  const longest = Math.max(height, width);
  let best: TileChoice | undefined;
  const scale = 2 ** network.depth;
  for (const size of candidates(network, longest)) {
    const geometry: TileGeometry =
      network.padding === 'valid'
        ? { kind: 'valid', input: size.input, output: size.output, align: scale }
        : { kind: 'same', tile: size.input, overlap: plan.overlap ?? 0, window: plan.window ?? 'gaussian' };
    if (geometry.kind === 'same' ? geometry.overlap >= geometry.tile : geometry.output < scale) continue;
    // Every prediction's tensors scale with the tile's area: the first too large ends the search.
    const peakBytes = predictionPeakBytes(network, size.input, size.input, 'dihedral');
    if (best && peakBytes > budgetBytes) break;
    const { stride } = tileStride(geometry);
    const tiles = tileStarts(height, size.output, stride).length * tileStarts(width, size.output, stride).length;
    const flops = tiles * forwardFlops(network, size.input);
    if (!best || flops < best.flops || (flops === best.flops && tiles < best.tiles)) best = { geometry, tiles, flops, peakBytes };
  }
  return best!;
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
