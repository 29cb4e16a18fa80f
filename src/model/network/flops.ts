/**
 * Arithmetic of a U-Net forward pass, counted from its layers (unet.ts's order): every
 * 3x3 convolution, 2x2 up-convolution and the 1x1 head, at 2 FLOPs per multiply-add.
 * Biases, ReLUs, pooling and crops are left out (under 1% of the total). Used to choose
 * tile sizes (tile-size.ts) and to report what a backend achieves (bench).
 */
import type { UNetConfig } from './unet.js';

export type NetworkLayers = Pick<UNetConfig, 'depth' | 'baseFilters' | 'classes' | 'inputChannels' | 'padding'>;

/** FLOPs of one forward pass over a `height` x `width` input (a size the network accepts). */
export function forwardFlops(config: NetworkLayers, width: number, height = width): number {
  const { depth, baseFilters: f, classes, inputChannels, padding } = config;
  const shrink = padding === 'valid' ? 2 : 0;
  let rows = height;
  let cols = width;
  let macs = 0;
  const conv = (cin: number, cout: number) => {
    rows -= shrink;
    cols -= shrink;
    macs += rows * cols * 9 * cin * cout;
  };
  let channels = inputChannels;
  for (let level = 0; level <= depth; level++) {
    const c = f * 2 ** level;
    conv(channels, c);
    conv(c, c);
    channels = c;
    if (level < depth) {
      rows /= 2;
      cols /= 2;
    }
  }
  for (let level = depth - 1; level >= 0; level--) {
    const c = f * 2 ** level;
    macs += rows * cols * channels * 4 * c; // each input pixel feeds a 2x2 block of c channels
    rows *= 2;
    cols *= 2;
    conv(2 * c, c); // after concatenation with the skip
    conv(c, c);
    channels = c;
  }
  macs += rows * cols * channels * classes;
  return 2 * macs;
}

/** Weights and biases of the network, counted from the same layers. */
export function parameterCount(config: NetworkLayers): number {
  const { depth, baseFilters: f, classes, inputChannels } = config;
  const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + cout;
  let n = 0;
  let channels = inputChannels;
  for (let level = 0; level <= depth; level++) {
    const c = f * 2 ** level;
    n += conv(3, channels, c) + conv(3, c, c);
    channels = c;
  }
  for (let level = depth - 1; level >= 0; level--) {
    const c = f * 2 ** level;
    n += 2 * c * 4 * c + c + conv(3, 2 * c, c) + conv(3, c, c);
  }
  return n + conv(1, f, classes);
}
