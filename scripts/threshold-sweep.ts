/**
 * Scores a model on labelled images for a range of thresholds on p(class 1), so the
 * threshold can be chosen on validation data (the border weights of the paper's loss
 * make predicted membranes thick at 0.5).
 *
 *   node --import tsx scripts/threshold-sweep.ts MODEL_DIR 'IMAGES_GLOB' 'LABELS_GLOB'   (npx would expand the globs)
 *   e.g. models/isbi2012-em '../shared/data/isbi2012/train/image/2[0-4].png' '../shared/data/isbi2012/train/label/2[0-4].png'
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { load, mirror, stitch, tile, unet } from '../operators/index.js';
import { folderQuery, pairsSource } from '../src/io/folders.js';
import { foregroundAbove, foregroundOfProbability } from '../src/kernels/metrics/foreground.js';
import { meanMetrics, segmentationMetrics } from '../src/kernels/metrics/segmentation.js';

const [model, images, labels] = process.argv.slice(2);
if (!model || !images || !labels) throw new Error('usage: threshold-sweep.ts MODEL_DIR IMAGES_GLOB LABELS_GLOB');
const { refs } = await pairsSource(folderQuery(images, process.cwd()), folderQuery(labels, process.cwd()));
const g = { model };
const samples = await lastValueFrom(from(refs).pipe(load(), mirror(g), tile(g), unet({ model }), stitch(), toArray()));
console.log('threshold  pixel-error  rand-error  warping-error  iou');
for (const at of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]) {
  const m = meanMetrics(
    samples.map((s) => {
      const { width, height } = s.probabilities!;
      return segmentationMetrics(foregroundAbove(s.label!, 0), foregroundOfProbability(s.probabilities!, 1, at), width, height);
    }),
  );
  console.log(`${at.toFixed(2)}       ${m.pixelError.toFixed(4)}       ${m.randError.toFixed(4)}      ${m.warpingError.toFixed(4)}         ${m.iou.toFixed(4)}`);
}
