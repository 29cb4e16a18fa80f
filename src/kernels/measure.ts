/**
 * Per-object measurements of an instance image (what scikit-image's regionprops
 * calls area, centroid, bbox and mean_intensity), in pixel units, and area and
 * centroid in micrometres too when the pixel size is known.
 */
import { toGrey } from '../image/convert.js';
import { sameSize, type Image } from '../image/image.js';
import type { PixelSize } from '../image/pixel-size.js';

export interface ObjectMeasurement {
  readonly id: number;
  /** Pixels. */
  readonly area: number;
  /** Mean row and column of the object's pixels. */
  readonly centroidY: number;
  readonly centroidX: number;
  /** Inclusive bounding box. */
  readonly minY: number;
  readonly minX: number;
  readonly maxY: number;
  readonly maxX: number;
  /** Mean of the image (grey) over the object's pixels. */
  readonly meanIntensity: number;
}

export function measureObjects(instances: Image, image: Image): ObjectMeasurement[] {
  if (!sameSize(instances, image)) {
    throw new RangeError(`measurements: the instances are ${instances.width}x${instances.height}, the image ${image.width}x${image.height}`);
  }
  const grey = toGrey(image).data;
  const { width: w, data } = instances;
  const sums = new ObjectSums();
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) continue;
    const y = Math.floor(i / w);
    sums.add(data[i], y, i - y * w, grey[i]);
  }
  return sums.measurements();
}

/** The sums per object that its measurements come from, added a pixel at a time (in any order: blockwise/measure.ts adds them block by block). */
export class ObjectSums {
  private readonly stats = new Map<number, { area: number; sy: number; sx: number; si: number; minY: number; minX: number; maxY: number; maxX: number }>();

  add(id: number, y: number, x: number, intensity: number): void {
    let s = this.stats.get(id);
    if (!s) this.stats.set(id, (s = { area: 0, sy: 0, sx: 0, si: 0, minY: y, minX: x, maxY: y, maxX: x }));
    s.area++;
    s.sy += y;
    s.sx += x;
    s.si += intensity;
    if (y < s.minY) s.minY = y;
    if (y > s.maxY) s.maxY = y;
    if (x < s.minX) s.minX = x;
    if (x > s.maxX) s.maxX = x;
  }

  /** One measurement per object, by id. */
  measurements(): ObjectMeasurement[] {
    return [...this.stats.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, s]) => ({
        id,
        area: s.area,
        centroidY: s.sy / s.area,
        centroidX: s.sx / s.area,
        minY: s.minY,
        minX: s.minX,
        maxY: s.maxY,
        maxX: s.maxX,
        meanIntensity: s.si / s.area,
      }));
  }
}

/**
 * One row per object. With a pixel size, three columns follow whose names say their
 * unit: `area_um2` (pixels x pixel area) and `centroid_y_um`, `centroid_x_um` (the
 * pixel centroid x pixel size: pixel centres at 0, as scikit-image's regionprops with
 * `spacing`; Fiji's Measure puts them at 0.5).
 */
export function measurementsCsv(rows: readonly ObjectMeasurement[], pixelSize?: PixelSize): string {
  const header = 'id,area,centroid_y,centroid_x,min_y,min_x,max_y,max_x,mean_intensity' + (pixelSize ? ',area_um2,centroid_y_um,centroid_x_um' : '');
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));
  // Micrometre values keep 6 significant digits: areas of small pixels are fractions of a µm².
  const um = (v: number) => String(Number(v.toPrecision(6)));
  const line = (r: ObjectMeasurement) => {
    const pixels = [r.id, r.area, r.centroidY, r.centroidX, r.minY, r.minX, r.maxY, r.maxX, r.meanIntensity].map(fmt);
    const micrometres = pixelSize ? [r.area * pixelSize.y * pixelSize.x, r.centroidY * pixelSize.y, r.centroidX * pixelSize.x].map(um) : [];
    return [...pixels, ...micrometres].join(',');
  };
  return [header, ...rows.map(line)].join('\n') + '\n';
}
