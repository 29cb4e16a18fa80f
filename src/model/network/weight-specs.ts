/**
 * The U-Net's weights by name and shape (unet.ts builds the network on them), apart from
 * tfjs so that the ONNX export (onnx/export.ts) runs where tfjs is not loaded: a page.
 */
import type { UNetConfig } from './config.js';

/** Shape and He fan-in of every weight, in a fixed order (the order of the stored weights). */
export function weightSpecs(config: UNetConfig): { name: string; shape: number[]; fanIn: number }[] {
  const { depth, baseFilters: f, classes, inputChannels } = config;
  const specs: { name: string; shape: number[]; fanIn: number }[] = [];
  const conv = (name: string, k: number, cin: number, cout: number) => {
    specs.push({ name: `${name}/kernel`, shape: [k, k, cin, cout], fanIn: k * k * cin });
    specs.push({ name: `${name}/bias`, shape: [cout], fanIn: 0 });
  };
  let cin = inputChannels;
  for (let level = 0; level <= depth; level++) {
    const c = f * 2 ** level;
    conv(`down${level}/conv1`, 3, cin, c);
    conv(`down${level}/conv2`, 3, c, c);
    cin = c;
  }
  for (let level = depth - 1; level >= 0; level--) {
    const c = f * 2 ** level;
    // Up-convolution as a matrix [cin, 2 * 2 * cout]: each input pixel feeds a 2x2 block,
    // so a neuron's fan-in is cin (He et al.'s N).
    specs.push({ name: `up${level}/upconv/kernel`, shape: [2 * c, 4 * c], fanIn: 2 * c });
    specs.push({ name: `up${level}/upconv/bias`, shape: [c], fanIn: 0 });
    conv(`up${level}/conv1`, 3, 2 * c, c);
    conv(`up${level}/conv2`, 3, c, c);
  }
  conv('head', 1, f, classes);
  return specs;
}
