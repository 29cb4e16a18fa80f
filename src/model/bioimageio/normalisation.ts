/**
 * A unetflow model's input normalisation (src/image/convert.ts) as bioimage.io
 * preprocessing, so that zoo tools feed the exported network what unetflow does.
 * `dtype` depends on the stored type of the images, so the package states it: the
 * input tensor's data type is the test image's.
 */
import type { Normalisation } from '../../image/convert.js';
import type { DType } from '../../image/image.js';
import type { Processing } from './rdf.js';

/** All of the image's values together, as toFloat32 does. */
const ALL = ['channel', 'y', 'x'];

export function preprocessingFor(normalisation: Normalisation, dtype: DType): Processing[] {
  const steps = ((): Processing[] => {
    switch (normalisation.method) {
      case 'none':
        return [];
      case 'dtype':
        if (dtype === 'float32') throw new Error("a model normalised by 'dtype' is exported with an 8- or 16-bit test image: the package must state which range its input has");
        return [{ id: 'scale_linear', kwargs: { gain: 1 / (dtype === 'uint8' ? 255 : 65535), offset: 0 } }];
      case 'minmax':
        return [{ id: 'scale_range', kwargs: { axes: ALL, min_percentile: 0, max_percentile: 100 } }];
      case 'percentile':
        return [
          { id: 'scale_range', kwargs: { axes: ALL, min_percentile: normalisation.low ?? 1, max_percentile: normalisation.high ?? 99.8 } },
          { id: 'clip', kwargs: { min: 0, max: 1 } },
        ];
      case 'range': {
        const span = normalisation.max - normalisation.min;
        return [
          { id: 'scale_linear', kwargs: { gain: 1 / span, offset: -normalisation.min / span } },
          { id: 'clip', kwargs: { min: 0, max: 1 } },
        ];
      }
    }
  })();
  return [{ id: 'ensure_dtype', kwargs: { dtype: 'float32' } }, ...steps, { id: 'ensure_dtype', kwargs: { dtype: 'float32' } }];
}
