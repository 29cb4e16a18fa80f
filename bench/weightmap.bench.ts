/**
 * Weight map (paper, eq. 2) on the two real labels of the issue, against the usual
 * implementation — one full-image distance transform per instance, then a sort of
 * the H x W x instances stack — measured in the same run, with the largest
 * difference between the two maps.
 */
import { readImage } from '../src/io/read.js';
import { makeImage, type Image } from '../src/image/image.js';
import { squaredDistanceTransform } from '../src/kernels/distance.js';
import { instanceIds, weightMap, type WeightMapOptions } from '../src/kernels/weight-map.js';
import { medianSeconds, type Benchmark } from './harness.js';

/**
 * The common implementation, transcribed: distance_transform_edt(instances != i) for
 * every instance, np.sort along the instance axis, d1 and d2 from the first two,
 * border term on background, 'balanced' class weights. Also the tests' reference.
 */
export function naiveWeightMap(label: Image, input: 'binary' | 'instances', w0 = 10, sigma = 5): Image<'float32'> {
  const { width, height } = label;
  const size = width * height;
  const ids = instanceIds(label, input);
  const distinct = [...new Set(ids)].filter((i) => i !== 0).sort((a, b) => a - b);
  const k = distinct.length;
  const stack = new Float64Array(size * k);
  const mask = new Uint8Array(size);
  distinct.forEach((id, j) => {
    for (let i = 0; i < size; i++) mask[i] = ids[i] === id ? 1 : 0;
    const d = squaredDistanceTransform(mask, width, height);
    for (let i = 0; i < size; i++) stack[i * k + j] = Math.sqrt(d[i]);
  });
  let foreground = 0;
  for (let i = 0; i < size; i++) if (ids[i] !== 0) foreground++;
  const wf = size / (2 * foreground);
  const wb = size / (2 * (size - foreground));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const sorted = stack.subarray(i * k, i * k + k).sort();
    const border = ids[i] === 0 && k >= 2 ? w0 * Math.exp(-((sorted[0] + sorted[1]) ** 2) / (2 * sigma * sigma)) : 0;
    out[i] = (ids[i] === 0 ? wb : wf) + border;
  }
  return makeImage(width, height, 1, 'float32', out);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases = [
  { name: 'weightmap-isbi-00', file: '../shared/data/isbi2012/train/label/00.png', input: 'binary' as const },
  { name: 'weightmap-dsb-mask', file: '../shared/data/dsb2018-nuclei/mask.tif', input: 'instances' as const },
];

export const benchmarks: Benchmark[] = cases.map((c) => ({
  group: 'weightmap',
  name: c.name,
  async run() {
    const label = await readImage(c.file);
    const options: WeightMapOptions = { input: c.input };
    const fast = weightMap(label, options);
    const naive = naiveWeightMap(label, c.input);
    const diff = maxAbsDiff(fast.weights.data, naive.data);
    if (!(diff < 1e-4)) throw new Error(`${c.name}: weight maps differ by ${diff}`);
    const ours = await medianSeconds(() => weightMap(label, options), 9, 2);
    const reference = await medianSeconds(() => naiveWeightMap(label, c.input), 3, 1);
    const parameters = { file: c.file, size: `${label.width}x${label.height}`, instances: fast.instances, maxAbsDiff: diff };
    const borderAll = await medianSeconds(() => weightMap(label, { ...options, border: 'all' }), 9, 2);
    return [
      { name: c.name, value: ours, unit: 's', parameters: { ...parameters, speedup: +(reference / ours).toFixed(1) }, reference: { name: 'naive-edt-per-instance+sort', value: reference, ratio: ours / reference } },
      { name: `${c.name}-border-all`, value: borderAll, unit: 's', parameters: { file: c.file, size: parameters.size, instances: fast.instances, border: 'all' } },
    ];
  },
}));
