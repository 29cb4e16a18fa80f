/**
 * Per-object measurements of a label plane too large to hold: the sums measureObjects
 * takes over the whole image (ObjectSums), taken block by block. Integer sums (area,
 * centroids, bounding boxes, integer intensities) come out exactly as measureObjects
 * gives them; float intensities to within their rounding.
 */
import { ObjectSums, type ObjectMeasurement } from '../measure.js';
import { blocks, type PlaneSource } from './region.js';

/** `labels`: object ids (0 = background); `intensity`: the grey value of each pixel (measureObjects's toGrey). */
export async function blockwiseMeasure(labels: PlaneSource, intensity: PlaneSource, block: number): Promise<ObjectMeasurement[]> {
  if (labels.width !== intensity.width || labels.height !== intensity.height) {
    throw new RangeError(`measurements: the instances are ${labels.width}x${labels.height}, the image ${intensity.width}x${intensity.height}`);
  }
  const sums = new ObjectSums();
  for (const r of blocks(labels.width, labels.height, block)) {
    const [ids, grey] = await Promise.all([labels.read(r), intensity.read(r)]);
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) sums.add(ids[i], r.y + Math.floor(i / r.width), r.x + (i % r.width), grey[i]);
  }
  return sums.measurements();
}
