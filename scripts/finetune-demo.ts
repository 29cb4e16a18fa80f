/**
 * The fine-tuning demonstration of the README: pipelines/finetune.yaml trains on the
 * left half of the DSB 2018 nuclei image (fixtures/dsb2018-nuclei) for N steps,
 * starting from models/isbi2012-em (all layers trained, and with its contracting path
 * frozen) and, as the control, from scratch with the same network, steps, tiles,
 * optimiser and normalisation. Each model, and the shipped EM model untouched, is then
 * scored on the held-out right half: foreground IoU and object F1 (objects matched at
 * IoU >= 0.5). Writes docs/finetune-demo.json (every figure, per-step losses) and
 * docs/finetune.png (loss curves and held-out scores against step). Seeded: the same
 * command gives the same tiles and deformations; timings vary with the machine.
 *
 *   npx tsx scripts/finetune-demo.ts [--steps 300] [--arms finetuned,frozen,scratch] [--parallel] [--out docs]
 *
 * `--figure docs/finetune-demo.json` only redraws the figure from a recorded run.
 * `--parallel` trains each arm in its own process at the same time (each on one
 * thread, so the CPU minutes of each are its own); the results are the same.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { lastValueFrom, tap } from 'rxjs';
import sharp from 'sharp';
import { parse } from 'yaml';
import type { RunEvent } from '../src/events.js';
import { toFloat32, type Normalisation } from '../src/image/convert.js';
import { readImage } from '../src/io/read.js';
import { crop } from '../src/kernels/mirror.js';
import { memoryBudget, useBackend } from '../src/model/engines/choice.js';
import { heldOutRegions } from '../src/model/training/finetune-split.js';
import { loadModel } from '../src/model/store.js';
import { predictProbabilities } from '../src/model/inference/predict.js';
import { objectF1, predictImage, score, truthObjects } from '../src/model/training/scoring.js';
import { runPipeline } from '../src/pipeline/run.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    arms: { type: 'string', default: 'finetuned,frozen,scratch' },
    out: { type: 'string', default: 'docs' },
    parallel: { type: 'boolean', default: false },
    /** Redraw docs/finetune.png from a finetune-demo.json, without training. */
    figure: { type: 'string' },
    /** Internal (--parallel): train the arms given and write their results to this file only. */
    partial: { type: 'string' },
  },
});
if (args.figure) {
  const recorded = JSON.parse(await readFile(args.figure, 'utf8')) as { results: FigureArm[] };
  await figure(recorded.results, join(args.out!, 'finetune.png'));
  process.exit(0);
}
const steps = Number(args.steps);
const PIPELINE = 'pipelines/finetune.yaml';
const pipeline = parse(await readFile(PIPELINE, 'utf8')) as { epochs: number; steps: Record<string, Record<string, unknown>>[] };
const tilesPerEpoch = Number(pipeline.steps.find((s) => 'random-tiles' in s)!['random-tiles'].count);
if (!(Number.isInteger(steps) && steps > 0 && steps % tilesPerEpoch === 0)) throw new Error(`--steps must be a positive multiple of ${tilesPerEpoch} (tiles per epoch)`);
const trainIndex = pipeline.steps.findIndex((s) => 'train' in s);
const shipped = pipeline.steps[trainIndex].train as Record<string, unknown>;
const TILE = Number(pipeline.steps.find((s) => 'random-tiles' in s)!['random-tiles'].input);
const EM = resolve('models/isbi2012-em');

interface Arm {
  readonly name: string;
  readonly label: string;
  readonly train: Record<string, unknown>;
}
const em = (await loadModel(EM)).metadata.architecture;
const arms: Arm[] = [
  { name: 'finetuned', label: 'fine-tuned from the EM model', train: { ...shipped, freeze: 'none' } },
  { name: 'frozen', label: 'fine-tuned, contracting path frozen', train: { ...shipped, freeze: 'encoder' } },
  {
    name: 'scratch',
    label: 'from scratch (control)',
    // The same network, optimiser, learning rate, warm-up and normalisation as fine-tuning's defaults: only the start differs.
    train: {
      ...Object.fromEntries(Object.entries(shipped).filter(([k]) => k !== 'from' && k !== 'freeze')),
      architecture: { depth: em.depth, baseFilters: em.baseFilters, classes: 2, padding: em.padding, dropout: em.dropout },
      optimizer: 'adam',
      learningRate: 0.0003,
      schedule: { kind: 'constant', warmup: 20 },
    },
  },
].filter((a) => args.arms!.split(',').includes(a.name));

// The held-out right half, as split cuts it: the figures below are scored on it.
const source = (pipeline as unknown as { source: { pairs: { images: string; labels: string } } }).source.pairs;
const imagePath = resolve('pipelines', source.images, 'nuclei.tif');
const labelPath = resolve('pipelines', source.labels, 'nuclei.tif');
const splitParams = pipeline.steps.find((s) => 'split' in s)!.split as { holdOut: 'right'; fraction: number };
const whole = await readImage(imagePath);
const { heldOut: region } = heldOutRegions(whole.width, whole.height, splitParams.holdOut, splitParams.fraction);
const heldImage = crop(whole, region);
const heldLabel = crop(await readImage(labelPath), region);
const truth = truthObjects(heldLabel);
const labels = Int32Array.from(heldLabel.data, (v) => (v > 0 ? 1 : 0));

async function scoreModel(dir: string, normalisation?: Normalisation) {
  await useBackend('wasm');
  const { model, metadata } = await loadModel(dir);
  try {
    const image = toFloat32(heldImage, normalisation ?? metadata.normalisation);
    const probabilities = await predictImage((x, n, s) => predictProbabilities(model, x, n, s, 'none', { budgetBytes: memoryBudget('wasm', { weightBytes: 4 * model.parameterCount }) }), image, model.sizeMap(TILE), 2);
    const s = score(probabilities, labels, 2);
    return { iou: s.iou, objectF1: objectF1(probabilities, truth, image.width, image.height), pixelError: s.pixelError, normalisation: normalisation ?? metadata.normalisation };
  } finally {
    model.dispose();
  }
}

const work = await mkdtemp(join(tmpdir(), 'unetflow-finetune-demo-'));
const results: Record<string, unknown>[] = [];
try {
  if (args.parallel) {
    const run = promisify(execFile);
    const parts = arms.map((arm) => join(work, `${arm.name}.json`));
    await Promise.all(
      arms.map(async (arm, i) => {
        const child = run(process.execPath, ['--import', 'tsx', 'scripts/finetune-demo.ts', '--steps', String(steps), '--arms', arm.name, '--partial', parts[i]], { maxBuffer: 1 << 26 });
        child.child.stderr?.on('data', (d: Buffer) => process.stderr.write(d.toString().replace(/^=+\n|Hi, looks like.*\n|=+\n/gm, '')));
        await child;
      }),
    );
    for (const part of parts) results.push(...(JSON.parse(await readFile(part, 'utf8')) as Record<string, unknown>[]));
  }
  for (const arm of args.parallel ? [] : arms) {
    const dir = join(work, arm.name);
    const definition = { ...pipeline, epochs: steps / tilesPerEpoch, steps: pipeline.steps.map((s, i) => (i === trainIndex ? { train: { ...arm.train, model: dir, workers: 1 } } : s)) };
    const losses: number[] = [];
    const validation: { step: number; iou: number; objectF1?: number; pixelError: number }[] = [];
    let normalisation: string | undefined;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await lastValueFrom(
      runPipeline(definition, { baseDir: resolve('pipelines'), backend: 'wasm' }).pipe(
        tap((e: RunEvent) => {
          if (e.type === 'train-step') losses.push(e.loss);
          if (e.type === 'validation') {
            validation.push({ step: e.step, iou: e.iou, pixelError: e.pixelError, objectF1: e.objectF1 });
            process.stderr.write(`${arm.name}: step ${e.step}: held-out IoU ${e.iou.toFixed(3)}, object F1 ${e.objectF1?.toFixed(3)}\n`);
          }
          if (e.type === 'log' && e.message.includes('normalisation')) normalisation = e.message;
          if (e.type === 'file-failed' || e.type === 'run-failed') throw new Error(`${arm.name}: ${JSON.stringify(e)}`);
        }),
      ),
    );
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    const final = await scoreModel(dir);
    results.push({ arm: arm.name, label: arm.label, steps: losses.length, cpuMinutes: (cpu.user + cpu.system) / 60e6, wallMinutes: seconds / 60, ...final, normalisationLog: normalisation, losses, validation });
    process.stderr.write(`${arm.name}: ${losses.length} steps, ${((cpu.user + cpu.system) / 60e6).toFixed(1)} CPU min: IoU ${final.iou.toFixed(3)}, object F1 ${final.objectF1.toFixed(3)}\n`);
  }
  if (args.partial) await writeFile(args.partial, JSON.stringify(results));
  else {
    // The shipped model untouched, with its own normalisation and with the one recomputed from the new image.
    const recomputed = (results.find((r) => r.arm === 'finetuned') ?? results[0])?.normalisation as Normalisation | undefined;
    const untouched = [{ arm: 'untouched', label: 'EM model untouched (its dtype normalisation)', steps: 0, ...(await scoreModel(EM)) }];
    if (recomputed && recomputed.method === 'range') untouched.push({ arm: 'untouched-renormalised', label: 'EM model untouched, normalisation recomputed', steps: 0, ...(await scoreModel(EM, recomputed)) });
    const summary = {
      command: `npx tsx scripts/finetune-demo.ts --steps ${steps}${args.parallel ? ' --parallel' : ''}`,
      pipeline: PIPELINE,
      data: 'fixtures/dsb2018-nuclei (DSB 2018, 512x512 16-bit, 125 nuclei): trained on the left half, scored on the right half',
      heldOut: region,
      tile: { input: TILE, output: TILE === 252 ? 68 : undefined },
      metrics: 'IoU of foreground (argmax); object F1: 4-connected components of the predicted foreground matched one to one with the true nuclei at IoU >= 0.5',
      machine: `${(await import('node:os')).cpus()[0]?.model ?? 'unknown CPU'}, ${(await import('node:os')).availableParallelism()} cores, tfjs wasm, 1 worker`,
      date: new Date().toISOString(),
      // The machine is shared: the 1, 5 and 15 min load averages at the end say how busy it was (wall times stretch with it; CPU minutes much less).
      loadAverage: (await import('node:os')).loadavg(),
      results: [...untouched, ...results],
    };
    await writeFile(join(args.out!, 'finetune-demo.json'), JSON.stringify(summary, null, 1) + '\n');
    await figure(summary.results as unknown as FigureArm[], join(args.out!, 'finetune.png'));
    process.stderr.write(`wrote ${join(args.out!, 'finetune-demo.json')} and ${join(args.out!, 'finetune.png')}\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

interface FigureArm {
  arm: string;
  label: string;
  losses?: number[];
  validation?: { step: number; iou: number; objectF1?: number }[];
  iou: number;
  objectF1: number;
}

/** Two panels: training loss (moving mean of 10 steps) and held-out IoU / object F1 against step. */
async function figure(all: FigureArm[], out: string): Promise<void> {
  const trained = all.filter((a) => a.losses?.length);
  const colours: Record<string, string> = { finetuned: '#1f77b4', frozen: '#2ca02c', scratch: '#d62728' };
  const W = 520;
  const H = 320;
  const pad = { left: 56, right: 16, top: 36, bottom: 44 };
  const maxStep = Math.max(1, ...trained.map((a) => a.losses!.length));
  const x = (step: number) => pad.left + (step / maxStep) * (W - pad.left - pad.right);
  const smooth = (v: number[]) => v.map((_, i) => v.slice(Math.max(0, i - 9), i + 1).reduce((s, u) => s + u, 0) / Math.min(i + 1, 10));
  const maxLoss = Math.max(1e-6, ...trained.flatMap((a) => smooth(a.losses!)));
  const yLoss = (v: number) => pad.top + (1 - v / maxLoss) * (H - pad.top - pad.bottom);
  const yScore = (v: number) => pad.top + (1 - v) * (H - pad.top - pad.bottom);
  const axes = (left: number, title: string, yLabel: string, ticks: [number, string][]) =>
    `<g transform="translate(${left},0)"><text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${title}</text>` +
    `<line x1="${pad.left}" y1="${H - pad.bottom}" x2="${W - pad.right}" y2="${H - pad.bottom}" stroke="#000"/>` +
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${H - pad.bottom}" stroke="#000"/>` +
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="13">step</text>` +
    [0, maxStep / 2, maxStep].map((s) => `<text x="${x(s)}" y="${H - pad.bottom + 16}" text-anchor="middle" font-size="11">${s}</text>`).join('') +
    `<text x="14" y="${H / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 14 ${H / 2})">${yLabel}</text>` +
    ticks.map(([y, t]) => `<text x="${pad.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${t}</text><line x1="${pad.left - 3}" y1="${y}" x2="${pad.left}" y2="${y}" stroke="#000"/>`).join('') +
    '</g>';
  const lossLines = trained
    .map((a) => `<polyline fill="none" stroke="${colours[a.arm]}" stroke-width="1.5" points="${smooth(a.losses!).map((v, i) => `${x(i + 1).toFixed(1)},${yLoss(v).toFixed(1)}`).join(' ')}"/>`)
    .join('');
  const scoreLines = trained
    .map((a) => {
      const v = a.validation ?? [];
      const iou = v.map((p) => `${x(p.step).toFixed(1)},${yScore(p.iou).toFixed(1)}`).join(' ');
      const f1 = v.map((p) => `${x(p.step).toFixed(1)},${yScore(p.objectF1 ?? 0).toFixed(1)}`).join(' ');
      const dots = v.map((p) => `<circle cx="${x(p.step).toFixed(1)}" cy="${yScore(p.iou).toFixed(1)}" r="3" fill="${colours[a.arm]}"/><circle cx="${x(p.step).toFixed(1)}" cy="${yScore(p.objectF1 ?? 0).toFixed(1)}" r="3" fill="none" stroke="${colours[a.arm]}"/>`).join('');
      return `<polyline fill="none" stroke="${colours[a.arm]}" stroke-width="2" points="${iou}"/><polyline fill="none" stroke="${colours[a.arm]}" stroke-width="2" stroke-dasharray="5,4" points="${f1}"/>${dots}`;
    })
    .join('');
  const untouched = all.find((a) => a.arm === 'untouched-renormalised') ?? all.find((a) => a.arm === 'untouched');
  const base = untouched ? `<line x1="${pad.left}" x2="${W - pad.right}" y1="${yScore(untouched.iou)}" y2="${yScore(untouched.iou)}" stroke="#888" stroke-dasharray="2,3"/>` : '';
  const legend = [...trained.map((a) => [colours[a.arm], a.label]), ...(untouched ? [['#888', `${untouched.label}: IoU`]] : [])]
    .map(([c, l], i) => `<rect x="${pad.left + 10}" y="${H + 10 + i * 18}" width="14" height="4" fill="${c}"/><text x="${pad.left + 30}" y="${H + 16 + i * 18}" font-size="12">${l}</text>`)
    .join('');
  const legendRight =
    `<text x="${W + pad.left + 10}" y="${H + 16}" font-size="12">solid line, filled dots: foreground IoU</text>` +
    `<text x="${W + pad.left + 10}" y="${H + 34}" font-size="12">dashed line, open dots: object F1 (matched at IoU &gt;= 0.5)</text>` +
    `<text x="${W + pad.left + 10}" y="${H + 52}" font-size="12">scored on the held-out right half every 50 steps</text>`;
  const height = H + 20 + 18 * 4;
  const svg = `<svg width="${2 * W}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${axes(0, 'Training loss (weighted cross-entropy, mean of 10 steps)', 'loss', [[yLoss(0), '0'], [yLoss(maxLoss / 2), (maxLoss / 2).toFixed(2)], [yLoss(maxLoss), maxLoss.toFixed(2)]])}
${lossLines}
${axes(W, 'Held-out right half', 'score', [[yScore(0), '0'], [yScore(0.5), '0.5'], [yScore(1), '1']])}
<g transform="translate(${W},0)">${scoreLines}${base}</g>
${legend}${legendRight}
</svg>`;
  await sharp(Buffer.from(svg)).png().toFile(out);
}
