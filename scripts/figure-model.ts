/**
 * docs/isbi2012-model.png: one validation slice through the shipped model (input,
 * probability of 'cell', mask outline over the input) and the training curve (loss,
 * smoothed, and validation pixel error against step) from the run's NDJSON events.
 * The slice goes through what pipelines/evaluate-isbi2012.yaml does: its `unet`
 * test-time augmentation and its `watershed` or `threshold` step.
 *
 *   npx tsx scripts/figure-model.ts MODEL_DIR EVENTS.ndjson [SLICE] [OUT.png]
 */
import { readFile } from 'node:fs/promises';
import { from, lastValueFrom } from 'rxjs';
import sharp from 'sharp';
import { parse } from 'yaml';
import { evaluate, load, mirror, stitch, threshold, tile, unet, watershed, type ThresholdParams, type UnetParams, type WatershedParams } from '../operators/index.js';
import type { RunEvent } from '../src/events.js';
import { renderOverlay } from '../src/kernels/overlay.js';
import { toInteger, extractChannel } from '../src/image/convert.js';

const [modelDir, eventsFile, slice = '20', out = 'docs/isbi2012-model.png'] = process.argv.slice(2);
if (!modelDir || !eventsFile) throw new Error('usage: figure-model.ts MODEL_DIR EVENTS.ndjson [SLICE] [OUT.png]');
const evaluation = parse(await readFile('pipelines/evaluate-isbi2012.yaml', 'utf8')) as { steps: Record<string, unknown>[] };
const stepOf = <P>(name: string) => evaluation.steps.find((step) => name in step)?.[name] as P | undefined;
const tta = stepOf<UnetParams>('unet')?.tta ?? 'none';
const parting = stepOf<WatershedParams>('watershed');
const cut = stepOf<ThresholdParams>('threshold');
const post = parting ? watershed(parting) : threshold(cut ?? {});
const postName = parting ? `watershed ${parting.at ?? 0.5} / ${parting.seeds ?? 0.9}` : `p(cell) >= ${cut?.at ?? 0.5}`;
const data = '../shared/data/isbi2012/train';
const ref = { path: `${data}/image/${slice}.png`, labelPath: `${data}/label/${slice}.png` };
const g = { model: modelDir };
const s = await lastValueFrom(
  from([ref]).pipe(load(), mirror(g), tile(g), unet({ model: modelDir, tta }), stitch(), post, evaluate({})),
);
const m = s.metadata!.metrics as { pixelError: number; randError: number };
const W = s.image.width;
const H = s.image.height;
const toRgb = (grey: ArrayLike<number>) => Uint8Array.from({ length: W * H * 3 }, (_, i) => grey[Math.floor(i / 3)]);
const panels = [toRgb(s.image.data), toRgb(toInteger(extractChannel(s.probabilities!, 1), 'uint8', 255).data), renderOverlay(s.image, s.mask!).data];

// Training curve.
const events = (await readFile(eventsFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
const steps = events.filter((e): e is Extract<RunEvent, { type: 'train-step' }> => e.type === 'train-step');
const validation = events.filter((e): e is Extract<RunEvent, { type: 'validation' }> => e.type === 'validation');
const window = 25;
const smooth = steps.map((e, i) => {
  const part = steps.slice(Math.max(0, i - window + 1), i + 1);
  return { step: e.step, loss: part.reduce((a, b) => a + b.loss, 0) / part.length };
});
const CW = 3 * W + 24;
const CH = 300;
const pad = { left: 60, right: 60, top: 20, bottom: 40 };
const maxStep = Math.max(1, ...steps.map((e) => e.step));
const maxLoss = Math.max(1e-6, ...smooth.map((p) => p.loss));
const maxErr = Math.max(0.2, ...validation.map((v) => v.pixelError));
const x = (step: number) => pad.left + (step / maxStep) * (CW - pad.left - pad.right);
const yLoss = (v: number) => pad.top + (1 - v / maxLoss) * (CH - pad.top - pad.bottom);
const yErr = (v: number) => pad.top + (1 - v / maxErr) * (CH - pad.top - pad.bottom);
const poly = smooth.map((p) => `${x(p.step).toFixed(1)},${yLoss(p.loss).toFixed(1)}`).join(' ');
const dots = validation.map((v) => `<circle cx="${x(v.step)}" cy="${yErr(v.pixelError)}" r="4" fill="#d62728"/>`).join('');
const valLine = validation.map((v) => `${x(v.step).toFixed(1)},${yErr(v.pixelError).toFixed(1)}`).join(' ');
const top = 30;
const titles = [`validation slice ${slice}`, `probability of 'cell'${tta === 'none' ? '' : ` (TTA ${tta})`}`, `${postName}: pixel error ${m.pixelError.toFixed(3)}, Rand error ${m.randError.toFixed(3)}`];
const svg = `<svg width="${CW}" height="${top + H + CH}" xmlns="http://www.w3.org/2000/svg">
${titles.map((t, i) => `<text x="${i * (W + 12) + W / 2}" y="21" font-family="sans-serif" font-size="17" text-anchor="middle">${t}</text>`).join('')}
<g transform="translate(0, ${top + H})">
<line x1="${pad.left}" y1="${CH - pad.bottom}" x2="${CW - pad.right}" y2="${CH - pad.bottom}" stroke="#000"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${CH - pad.bottom}" stroke="#1f77b4"/>
<line x1="${CW - pad.right}" y1="${pad.top}" x2="${CW - pad.right}" y2="${CH - pad.bottom}" stroke="#d62728"/>
<polyline points="${poly}" fill="none" stroke="#1f77b4" stroke-width="2"/>
<polyline points="${valLine}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 3"/>${dots}
<text x="${CW / 2}" y="${CH - 8}" font-family="sans-serif" font-size="15" text-anchor="middle">training step (of ${maxStep})</text>
<text x="${pad.left - 8}" y="${pad.top + 10}" font-family="sans-serif" font-size="13" text-anchor="end" fill="#1f77b4">${maxLoss.toFixed(2)}</text>
<text x="${pad.left - 8}" y="${CH - pad.bottom}" font-family="sans-serif" font-size="13" text-anchor="end" fill="#1f77b4">0</text>
<text x="${pad.left + 8}" y="${pad.top + 14}" font-family="sans-serif" font-size="14" fill="#1f77b4">weighted loss (mean of ${window} steps)</text>
<text x="${CW - pad.right + 8}" y="${pad.top + 10}" font-family="sans-serif" font-size="13" fill="#d62728">${maxErr.toFixed(2)}</text>
<text x="${CW - pad.right + 8}" y="${CH - pad.bottom}" font-family="sans-serif" font-size="13" fill="#d62728">0</text>
<text x="${CW - pad.right - 8}" y="${pad.top + 14}" font-family="sans-serif" font-size="14" text-anchor="end" fill="#d62728">validation pixel error (slices 20-24)</text>
</g></svg>`;
await sharp({ create: { width: CW, height: top + H + CH, channels: 3, background: '#ffffff' } })
  .composite([
    { input: Buffer.from(svg), top: 0, left: 0 },
    ...panels.map((d, i) => ({ input: Buffer.from(d), raw: { width: W, height: H, channels: 3 as const }, top, left: i * (W + 12) })),
  ])
  .png({ compressionLevel: 9, palette: true, colours: 256, dither: 0 })
  .toFile(out);
console.log(`${out}: slice ${slice}, pixel error ${m.pixelError.toFixed(4)}, Rand error ${m.randError.toFixed(4)}, ${steps.length} steps, ${validation.length} validations`);
