/** Child process of tiling.bench.ts: peak RSS above the start-up baseline, in copies of the image. */
import { noiseImage, operatorsRoundTrip } from './tiling.bench.js';

const baseline = process.resourceUsage().maxRSS * 1024;
const image = noiseImage(8192);
const out = await operatorsRoundTrip(image);
if (out.image.width !== 8192) throw new Error('round trip lost the image size');
const peak = process.resourceUsage().maxRSS * 1024;
const bytes = image.data.byteLength;
console.log(JSON.stringify({ copies: (peak - baseline) / bytes, peakMiB: peak / 2 ** 20, imageMiB: bytes / 2 ** 20 }));
