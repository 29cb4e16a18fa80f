/**
 * docs/elastic-weightmap.png: an ISBI 2012 slice, the same slice elastically deformed
 * (default parameters: 3 x 3 control points, sigma 10 px) with its deformed label's
 * cell outlines, and the weight map (paper, eq. 2; w0 = 10, sigma = 5) of that label.
 *
 *   npx tsx scripts/figure-elastic.ts [seed]
 */
import { from, lastValueFrom } from 'rxjs';
import sharp from 'sharp';
import { elastic, load, weightMap } from '../operators/index.js';
import type { Image } from '../src/image/image.js';

const seed = Number(process.argv[2] ?? 3);
const data = '../shared/data/isbi2012/train';
const ref = { path: `${data}/image/00.png`, labelPath: `${data}/label/00.png` };
const [original, sample] = await Promise.all([
  lastValueFrom(from([ref]).pipe(load())),
  // The operators themselves, so the figure shows exactly what a pipeline with this seed draws.
  lastValueFrom(from([ref]).pipe(load(), elastic({ controlPoints: 3, sigma: 10 }, { seed }), weightMap())),
]);
const image = original.image;
const deformed = sample.image;
const deformedLabel = sample.label!;
const weights = sample.weights!;
const { width: W, height: H } = image;

const rgb = (fill: (i: number, out: Uint8Array, o: number) => void) => {
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) fill(i, out, i * 3);
  return out;
};
const grey = (img: Image) => rgb((i, out, o) => out.fill(img.data[i], o, o + 3));

// Outline: cell pixels with a 4-neighbour on the membrane.
const outlined = rgb((i, out, o) => {
  const y = Math.floor(i / W);
  const x = i % W;
  const inside = (yy: number, xx: number) => yy < 0 || yy >= H || xx < 0 || xx >= W || deformedLabel.data[yy * W + xx] !== 0;
  const edge = deformedLabel.data[i] !== 0 && !(inside(y - 1, x) && inside(y + 1, x) && inside(y, x - 1) && inside(y, x + 1));
  if (edge) out.set([255, 200, 0], o);
  else out.fill(deformed.data[i], o, o + 3);
});

// Weight map through a viridis-like ramp, 0 .. max.
const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
let max = 0;
for (const v of weights.data) max = Math.max(max, v);
const colour = rgb((i, out, o) => {
  const t = (weights.data[i] / max) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(t));
  const f = t - k;
  for (let c = 0; c < 3; c++) out[o + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
});

const gap = 12;
const top = 30;
const panels = [grey(image), outlined, colour];
const titles = ['ISBI 2012 slice', 'elastic deformation + deformed label outline', `weight map (w0 = 10, σ = 5 px), max ${max.toFixed(1)}`];
const svg = `<svg width="${3 * W + 2 * gap}" height="${top}" xmlns="http://www.w3.org/2000/svg">${titles
  .map((t, i) => `<text x="${i * (W + gap) + W / 2}" y="21" font-family="sans-serif" font-size="17" text-anchor="middle">${t}</text>`)
  .join('')}</svg>`;
await sharp({ create: { width: 3 * W + 2 * gap, height: H + top, channels: 3, background: '#ffffff' } })
  .composite([
    { input: Buffer.from(svg), top: 0, left: 0 },
    ...panels.map((data, i) => ({ input: Buffer.from(data), raw: { width: W, height: H, channels: 3 as const }, top, left: i * (W + gap) })),
  ])
  // A 256-colour palette holds the grey levels and the ramp; the file is about 2/3 the size.
  .png({ compressionLevel: 9, palette: true, colours: 256, dither: 0 })
  .toFile('docs/elastic-weightmap.png');
console.log(`docs/elastic-weightmap.png: seed ${seed}, weight max ${max.toFixed(2)}`);
