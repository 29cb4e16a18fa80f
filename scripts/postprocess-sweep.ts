/**
 * Scores a model on labelled images for a range of post-processing settings: plain
 * thresholds on p(class 1), and seeded watersheds (foreground threshold / seed
 * threshold, cores of 50 px or more), and names the one with the smallest sum of pixel
 * and Rand error, so that a setting can be chosen on images the report does not use
 * (the border weights of the paper's loss make predicted membranes thick at 0.5).
 *
 *   node --import tsx scripts/postprocess-sweep.ts MODEL_DIR 'IMAGES_GLOB' 'LABELS_GLOB' [none|flips|dihedral]   (npx would expand the globs)
 *   e.g. models/isbi2012-em '../shared/data/isbi2012/train/image/1[5-9].png' '../shared/data/isbi2012/train/label/1[5-9].png'
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { evaluate, load, meanMetrics, mirror, stitch, threshold, tile, unet, watershed, type SampleOperator } from '../operators/index.js';
import { folderQuery, pairsSource } from '../src/io/folders.js';
import type { Augmentation } from '../src/model/inference/augmentation.js';
import type { Sample } from '../src/sample.js';

const [model, images, labels, tta = 'none'] = process.argv.slice(2);
if (!model || !images || !labels) throw new Error('usage: postprocess-sweep.ts MODEL_DIR IMAGES_GLOB LABELS_GLOB [none|flips|dihedral]');
const { refs } = await pairsSource(folderQuery(images, process.cwd()), folderQuery(labels, process.cwd()));
const g = { model };
const samples = await lastValueFrom(from(refs).pipe(load(), mirror(g), tile(g), unet({ model, tta: tta as Augmentation }), stitch(), toArray()));

const results: { name: string; pixelError: number; randError: number }[] = [];
async function score(name: string, step: SampleOperator): Promise<void> {
  const scored = await lastValueFrom(from(samples).pipe(step, evaluate({}), toArray()));
  const m = meanMetrics(scored.map((s: Sample) => s.metadata!.metrics as never));
  results.push({ name, pixelError: m.pixelError, randError: m.randError });
  const cells = [m.pixelError, m.randError, m.viSplit + m.viMerge, m.warpingError, m.iou].map((v) => v.toFixed(4));
  console.log([name.padEnd(24), ...cells].join('  '));
}

console.log(`${samples.length} images, tta ${tta}`);
console.log(['post-processing'.padEnd(24), 'pixel-err', 'rand-err', 'vi (bits)', 'warp-err', 'iou   '].join('  '));
for (const at of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]) await score(`threshold ${at}`, threshold({ at }));
for (const at of [0.05, 0.1, 0.2, 0.3, 0.5]) {
  for (const seeds of [0.7, 0.8, 0.9, 0.95]) await score(`watershed ${at} / ${seeds}`, watershed({ at, seeds, minSeedArea: 50 }));
}
// Both errors count: the setting with the smallest sum (the project's targets are 0.07 and 0.06).
const best = results.reduce((a, b) => (b.pixelError + b.randError < a.pixelError + a.randError ? b : a));
console.log(`\nsmallest pixel + Rand error: ${best.name} (${best.pixelError.toFixed(4)} + ${best.randError.toFixed(4)})`);
