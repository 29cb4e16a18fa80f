/**
 * Per-object measurements of a label plane too large to hold: the sums measureObjects
 * takes over the whole image, taken block by block and added up per object. Integer
 * sums (area, centroids, bounding boxes, integer intensities) come out exactly as
 * measureObjects gives them; float intensities to within their rounding.
 */
import type { ObjectMeasurement } from '../measure.js';
import { blocks, type PlaneSource } from './region.js';

/** `labels`: object ids (0 = background); `intensity`: the grey value of each pixel (measureObjects's toGrey). */
export async function blockwiseMeasure(labels: PlaneSource, intensity: PlaneSource, block: number): Promise<ObjectMeasurement[]> {
  if (labels.width !== intensity.width || labels.height !== intensity.height) {
    throw new RangeError(`measurements: the instances are ${labels.width}x${labels.height}, the image ${intensity.width}x${intensity.height}`);
  }
  const stats = new Map<number, { area: number; sy: number; sx: number; si: number; minY: number; minX: number; maxY: number; maxX: number }>();
  for (const r of blocks(labels.width, labels.height, block)) {
    const [ids, grey] = await Promise.all([labels.read(r), intensity.read(r)]);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === 0) continue;
      const y = r.y + Math.floor(i / r.width);
      const x = r.x + (i % r.width);
      let s = stats.get(id);
      if (!s) stats.set(id, (s = { area: 0, sy: 0, sx: 0, si: 0, minY: y, minX: x, maxY: y, maxX: x }));
      s.area++;
      s.sy += y;
      s.sx += x;
      s.si += grey[i];
      s.minY = Math.min(s.minY, y);
      s.maxY = Math.max(s.maxY, y);
      s.minX = Math.min(s.minX, x);
      s.maxX = Math.max(s.maxX, x);
    }
  }
  return [...stats.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, s]) => ({ id, area: s.area, centroidY: s.sy / s.area, centroidX: s.sx / s.area, minY: s.minY, minX: s.minX, maxY: s.maxY, maxX: s.maxX, meanIntensity: s.si / s.area }));
}
