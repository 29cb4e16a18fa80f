/**
 * The `unet` operator's look at each input's intensities: normalised as the model
 * says, are they near those it was trained on (metadata `inputIntensity`)? An image
 * far from them (`intensityMismatch` says what far means) still gives a confident
 * result, and a wrong one, so a `log` warning names the file, once per file.
 */
import { toFloat32 } from '../src/image/convert.js';
import { describeSummary, intensityMismatch, sampleValues, summarise } from '../src/image/intensity.js';
import type { RunEvent } from '../src/events.js';
import type { ModelMetadata } from '../src/model/store.js';
import type { Sample } from '../src/sample.js';

/** Values summarised per image: plenty for percentiles, cheap for a 20000 px square. */
const SUMMARISED = 1 << 16;
/** Files remembered as warned about, so that a long watch run's memory stays bounded. */
const REMEMBERED = 10_000;

/** A checker to call on every sample `unet` predicts; it looks once per image (its first tile). */
export function intensityWarnings(step: string, emit: ((event: RunEvent) => void) | undefined): (sample: Sample, metadata: ModelMetadata) => void {
  const warned = new Set<string>();
  return (sample, metadata) => {
    const trained = metadata.inputIntensity;
    const file = sample.source.path;
    if (!emit || !trained || (sample.tile && sample.tile.index !== 0) || warned.has(file)) return;
    // A tile's parent is the whole (mirrored) image: its intensities, not one tile's.
    const image = sample.tile?.parent.image ?? sample.image;
    const input = summarise(toFloat32(sampleValues(image, SUMMARISED), metadata.normalisation).data);
    const why = intensityMismatch(input, trained);
    if (!why) return;
    if (warned.size >= REMEMBERED) warned.clear();
    warned.add(file);
    emit({
      type: 'log',
      level: 'warn',
      file,
      message:
        `${step}: ${file}: the network input's intensities (1st-99.8th percentile ${describeSummary(input)}) are far from those ` +
        `the model was trained on (${describeSummary(trained)}): ${why}. The result is likely wrong. If the image uses only part ` +
        "of its type's range (e.g. 0-235 in a 16-bit file), normalise it in load: `load: { normalize: { method: percentile } }`, " +
        'or `{ method: range, min: ..., max: ... }` for fixed bounds',
    });
  };
}
