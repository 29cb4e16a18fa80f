import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt, closedObject } from '../src/codec/building-blocks.js';
import { connectedComponents, instanceImage } from '../src/kernels/components.js';
import { foregroundOfClass } from '../src/kernels/metrics/foreground.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const InstancesParams = closedObject(
  'instances parameters',
  {},
  {
    /** Mask value whose connected regions become objects. @default 1 */
    class: NonNegativeInt,
    /** 4: objects touching only at corners are separate; 8: they are one. @default 4 */
    connectivity: t.union([t.literal(4), t.literal(8)]),
    /** Objects smaller than this many pixels are dropped (debris). @default 1 */
    minArea: PositiveInt,
  },
);
export type InstancesParams = t.TypeOf<typeof InstancesParams>;

/**
 * Labels each connected region of a mask class as an object: a uint16 instance image
 * (0 = background, ids 1..n in raster order), for the `instances`, `measurements`
 * and `overlay` outputs; n is recorded as `metadata.objects`.
 *
 * @example
 * samples$.pipe(threshold({ class: 1 }), instances({ minArea: 20 }), save({ dir, outputs: ['instances', 'measurements'] }))
 * @see threshold
 */
export function instances(params: InstancesParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('instances', InstancesParams, params);
  const cls = p.class ?? 1;
  const minArea = p.minArea ?? 1;
  return perSample('instances', ctx, (sample) => {
    const mask = sample.mask;
    if (!mask) throw new Error('no mask to label (a threshold step must come before instances)');
    const { width: w, height: h } = mask;
    const { labels, count } = connectedComponents(foregroundOfClass(mask, cls), w, h, p.connectivity ?? 4);
    const area = new Int32Array(count + 1);
    for (const id of labels) area[id]++;
    // Renumber the kept objects 1..n so that ids stay dense after dropping small ones.
    const renumber = new Int32Array(count + 1);
    let next = 0;
    for (let id = 1; id <= count; id++) if (area[id] >= minArea) renumber[id] = ++next;
    // The count travels in metadata: the run reports it (file-done's `objects`) without scanning the labels again.
    return { ...sample, instances: instanceImage(labels.map((id) => renumber[id]), next, w, h), metadata: { ...sample.metadata, objects: next } };
  });
}
