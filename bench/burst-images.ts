import { encodeImage } from '../src/io/write.js';
import { makeImage } from '../src/image/image.js';
import { createRng } from '../src/random.js';

/**
 * `count` distinct 128x128 noise PNGs, encoded, for the burst benchmarks: distinct because
 * a watch run recognises a file with the content of one already done and skips it.
 */
export function distinctPngs(count: number): Promise<Buffer[]> {
  const rng = createRng(1);
  return Promise.all(
    Array.from({ length: count }, () => encodeImage(makeImage(128, 128, 1, 'uint8', Uint8Array.from({ length: 128 * 128 }, () => rng.int(256))), 'png')),
  );
}
