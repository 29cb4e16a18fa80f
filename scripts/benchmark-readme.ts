/**
 * The README's benchmark figures, rendered from docs/benchmarks.json: the Benchmarks
 * table and the weight-map sentence, each between a pair of markers,
 *
 *   <!-- benchmarks:table ... -->   ...   <!-- /benchmarks:table -->
 *   <!-- benchmarks:weightmap -->   ...   <!-- /benchmarks:weightmap -->
 *
 * so that no figure in them is typed by hand. `ROWS` says which entries each row cites.
 */
import type { BenchRecord, Records } from './benchmark-records.js';

type Lookup = (name: string) => BenchRecord;

interface Row {
  cites: string[];
  /** benchmark, figure, reference in the same run */
  cells(get: Lookup): [string, string, string];
}

/** 3 significant digits, integers from 100, no trailing zeros. */
export function figure(v: number): string {
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return Number(v.toPrecision(3)).toString();
}

/** A ratio: 2 decimals below 10, else an integer. */
function times(r: number): string {
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;
}

function reference(r: BenchRecord): NonNullable<BenchRecord['reference']> {
  if (!r.reference) throw new Error(`docs/benchmarks.json: ${r.name} has no same-run reference, which the README table cites`);
  return r.reference;
}

/** How a result's engine reads in the table, from its `backend` parameter. */
function engine(r: BenchRecord): string {
  const names: Record<string, string> = {
    'onnxruntime-node': 'ONNX Runtime',
    '@tensorflow/tfjs-backend-wasm': 'tfjs wasm',
    '@tensorflow/tfjs-node': 'tfjs-node',
    '@tensorflow/tfjs-node-gpu': 'tfjs-node-gpu',
    '@tensorflow/tfjs (cpu)': 'tfjs cpu',
  };
  const backend = String(r.parameters?.backend ?? 'unknown backend');
  // bench/inference.bench.ts names the engine as the run's summary does: `wasm (@tensorflow/tfjs-backend-wasm), 2 worker(s)`.
  const inSummary = /\(([^)]+)\)/.exec(backend)?.[1];
  return names[backend] ?? (inSummary && names[inSummary]) ?? backend;
}

/** `PyTorch 1.13 CPU`, flagged when the figure is quoted rather than measured in the run. */
function torch(r: BenchRecord): string {
  const ref = reference(r);
  const version = /pytorch-([\d.]+)/.exec(ref.name)?.[1];
  return `PyTorch${version ? ` ${version}` : ''} CPU${/not same-run/.test(ref.name) ? ' (quoted, not measured in the run)' : ''}`;
}

/** Reference figures of several results, once when they are the same measurement. */
function references(rs: BenchRecord[], unit: string): string {
  const values = [...new Set(rs.map((r) => figure(reference(r).value)))];
  return values.map((v) => `${v} ${unit}`).join(' / ');
}

function unetForward(filters: number): Row {
  const names = [`unet-forward-572-f${filters}`, `unet-forward-572-f${filters}-tfjs-wasm`];
  return {
    cites: names,
    cells(get) {
      const [a, b] = names.map(get);
      return [
        `U-Net 572 -> 388 forward, ${filters} filters: ${engine(a)} / ${engine(b)}`,
        `${figure(a.value)} s / ${figure(b.value)} s`,
        `${torch(a)}: ${references([a, b], 's')} (${times(reference(a).ratio)} / ${times(reference(b).ratio)})`,
      ];
    },
  };
}

function weightMapRow(name: string, what: string, cells: string, referenceText: string): Row {
  return {
    cites: [name],
    cells(get) {
      const r = get(name);
      return [`weight map, ${what} (${r.parameters?.instances} ${cells})`, `${figure(r.value)} s`, `${referenceText}: ${figure(reference(r).value)} s (${times(1 / reference(r).ratio)})`];
    },
  };
}

/** bench/inference.bench.ts: load -> saved mask with tiles sized per image, ONNX Runtime / tfjs wasm, against fixed 572 px tiles in the same run. */
function inferenceRow(name: string, what: string, unit: string, memory?: string): Row {
  const names = [`inference-${name}-onnxruntime`, `inference-${name}-wasm`, ...(memory ? [`inference-${memory}-onnxruntime`, `inference-${memory}-wasm`] : [])];
  return {
    cites: names,
    cells(get) {
      const [ort, wasm, ortMemory, wasmMemory] = names.map(get);
      const tiles = [...new Set([ort, wasm].map((r) => String(r.parameters?.tile ?? '?')))].join(' / ');
      const peak = ortMemory && wasmMemory ? `; peak ${figure(ortMemory.value)} / ${figure(wasmMemory.value)} MiB (budget ${figure(Number(ortMemory.parameters?.budgetMiB))} / ${figure(Number(wasmMemory.parameters?.budgetMiB))} MiB of estimated tensors)` : '';
      const peakRef = ortMemory && wasmMemory ? `; ${figure(reference(ortMemory).value)} / ${figure(reference(wasmMemory).value)} MiB` : '';
      return [
        `${what}, tiles sized per image (${tiles}): ${engine(ort)} / ${engine(wasm)}`,
        `${figure(ort.value)} / ${figure(wasm.value)} ${unit}${peak}`,
        `fixed 572 px tiles: ${figure(reference(ort).value)} / ${figure(reference(wasm).value)} ${unit} (${times(reference(ort).ratio)} / ${times(reference(wasm).ratio)})${peakRef}`,
      ];
    },
  };
}

const INFERENCE = ['unet-inference-tiles-per-s-572-f16', 'unet-inference-tiles-per-s-572-f16-tfjs-wasm', 'unet-inference-2048-f16', 'unet-inference-2048-f16-tfjs-wasm'];

/** How a reference run that died reads in the table: `out of JavaScript heap at 3412 MiB`. */
function failure(note: string): string {
  const peak = /peak (\d+) MiB/.exec(note)?.[1];
  if (/heap out of memory/.test(note)) return `out of JavaScript heap${peak ? ` at ${peak} MiB` : ''}`;
  return note.replace(/^failed: /, '');
}

/** Peak memory rows: several cases of the memory group in one row, each `peak MiB: B/px; s`. */
function memoryRow(what: string, tags: string[], labels: string): Row {
  const names = tags.flatMap((t) => [`predict-peak-${t}`, `predict-bytes-per-pixel-${t}`, `predict-seconds-${t}`]);
  return {
    cites: names,
    cells(get) {
      const cases = tags.map((t) => ({ peak: get(`predict-peak-${t}`), perPixel: get(`predict-bytes-per-pixel-${t}`), seconds: get(`predict-seconds-${t}`) }));
      const before = cases.map(({ peak, perPixel }) =>
        peak.reference && perPixel.reference
          ? `${figure(peak.reference.value)} MiB (${figure(perPixel.reference.value)} B/px)`
          : failure(String(peak.parameters?.reference ?? 'not run')),
      );
      return [
        `prediction peak memory, shipped model on ONNX Runtime (tta none), ${what} ${labels}`,
        `${cases.map((c) => figure(c.peak.value)).join(' / ')} MiB: ${cases.map((c) => figure(c.perPixel.value)).join(' / ')} B/px above a 1000² run; ${cases.map((c) => figure(c.seconds.value)).join(' / ')} s per image`,
        `the code before streaming: ${before.join(' / ')}`,
      ];
    },
  };
}

export const ROWS: Row[] = [
  {
    cites: ['tile-stitch-4096-u16'],
    cells: (get) => {
      const r = get('tile-stitch-4096-u16');
      return ['tile + stitch, 4096x4096 uint16, 572 -> 388', `${figure(r.value)} MP/s`, `a plain copy: ${figure(reference(r).value)} MP/s`];
    },
  },
  {
    cites: ['tile-stitch-8192-u16-memory'],
    cells: (get) => ['peak memory, 8192x8192 uint16 through mirror -> tile -> stitch', `${figure(get('tile-stitch-8192-u16-memory').value)} image copies`, ''],
  },
  weightMapRow('weightmap-isbi-00', 'ISBI label 00', 'cells', 'one EDT per cell + sort'),
  weightMapRow('weightmap-dsb-mask', 'DSB 2018 nuclei', 'instances', 'the same'),
  {
    cites: ['elastic-512-image-label-weights'],
    cells: (get) => ['elastic deformation, 512x512 image + label + weights', `${figure(get('elastic-512-image-label-weights').value)} s`, ''],
  },
  {
    cites: ['watch-burst-1000-files-per-s', 'watch-burst-1000-peak-rss'],
    cells(get) {
      const [speed, memory] = [get('watch-burst-1000-files-per-s'), get('watch-burst-1000-peak-rss')];
      return [
        'watch mode, a burst of 1,000 files',
        `${figure(speed.value)} files/s, ${figure(memory.value)} MiB peak`,
        `batch run: ${figure(reference(speed).value)} files/s, ${figure(reference(memory).value)} MiB`,
      ];
    },
  },
  unetForward(16),
  unetForward(64),
  {
    cites: ['unet-train-572-f16', 'unet-train-572-f64'],
    cells(get) {
      const [a, b] = [get('unet-train-572-f16'), get('unet-train-572-f64')];
      const engines = [...new Set([engine(a), engine(b)])].join(' / ');
      return [
        `U-Net 572 -> 388 train step (${engines}), 16 / 64 filters`,
        `${figure(a.value)} s / ${figure(b.value)} s`,
        `${torch(a)}: ${figure(reference(a).value)} s / ${figure(reference(b).value)} s (${times(reference(a).ratio)} / ${times(reference(b).ratio)})`,
      ];
    },
  },
  {
    cites: INFERENCE,
    cells(get) {
      const [rate, rateWasm, image, imageWasm] = INFERENCE.map(get);
      return [
        `U-Net inference, 16 filters: ${engine(rate)} / ${engine(rateWasm)}`,
        `${figure(rate.value)} / ${figure(rateWasm.value)} tiles/s: ${figure(image.value)} / ${figure(imageWasm.value)} s per 2048x2048 image`,
        '',
      ];
    },
  },
  inferenceRow('512-dihedral', '512x512 slice, dihedral TTA, load -> saved mask', 's'),
  inferenceRow('512-none', '512x512 slice, no TTA, load -> saved mask', 's'),
  inferenceRow('2048-none', '2048x2048 image, no TTA, load -> saved mask', 's', '2048-peak-rss'),
  {
    cites: ['inference-watch-latency-512-dihedral'],
    cells(get) {
      const r = get('inference-watch-latency-512-dihedral');
      return ['watch: a 512x512 slice lands -> its mask is written (dihedral TTA), beyond stableMs', `${figure(r.value)} s`, `fixed 572 px tiles: ${figure(reference(r).value)} s (${times(reference(r).ratio)})`];
    },
  },
  {
    cites: ['inference-gflops-700-onnxruntime', 'inference-gflops-700-wasm'],
    cells(get) {
      const [ort, wasm] = [get('inference-gflops-700-onnxruntime'), get('inference-gflops-700-wasm')];
      return [
        `U-Net forward, 700 px tile, 16 filters, achieved GFLOP/s: ${engine(ort)} / ${engine(wasm)}`,
        `${figure(ort.value)} / ${figure(wasm.value)} GFLOP/s`,
        `the same engine on a large matrix product: ${figure(reference(ort).value)} / ${figure(reference(wasm).value)} GFLOP/s`,
      ];
    },
  },
  {
    cites: ['demo-seconds-per-slice-onnxruntime', 'demo-seconds-per-slice-wasm'],
    cells(get) {
      const [ort, wasm] = [get('demo-seconds-per-slice-onnxruntime'), get('demo-seconds-per-slice-wasm')];
      return [
        '`npm start`: the demo, 512x512 slices, dihedral TTA, watershed: ONNX Runtime / tfjs wasm',
        `${figure(ort.value)} / ${figure(wasm.value)} s per slice`,
        `tfjs wasm takes ${times(reference(wasm).ratio)} ONNX Runtime's time`,
      ];
    },
  },
  {
    cites: ['unet-predict-572-f64-dihedral-batch4-tfjs-wasm', 'unet-predict-572-f64-dihedral-batch4-tfjs-wasm-peak-rss'],
    cells(get) {
      const [time, rss] = [get('unet-predict-572-f64-dihedral-batch4-tfjs-wasm'), get('unet-predict-572-f64-dihedral-batch4-tfjs-wasm-peak-rss')];
      return ['U-Net 572 -> 388, 64 filters, 4 tiles with dihedral TTA on tfjs wasm (2 workers)', `${figure(time.value)} s, ${figure(rss.value)} MiB peak RSS`, ''];
    },
  },
  memoryRow('uint8', ['3000-u8', '6000-u8', '12000-u8'], '3000² / 6000² / 12000²'),
  memoryRow('6000²', ['6000-u16', '6000-u8-watershed', '6000-u8-tile-threshold'], 'uint16 / watershed / threshold before stitch'),
  {
    cites: ['watershed-2048'],
    cells(get) {
      const r = get('watershed-2048');
      return ['seeded watershed + line cutting, 2048x2048 probabilities', `${figure(r.value)} s`, `threshold + connected components: ${figure(reference(r).value)} s (${times(reference(r).ratio)})`];
    },
  },
  {
    cites: ['queue-overhead-ms-per-job'],
    cells(get) {
      const r = get('queue-overhead-ms-per-job');
      return ['queue (BullMQ, Redis on loopback, 1 worker): added time per job, load+save of 1,000 64x64 PNGs', `${figure(r.value)} ms per job`, `in-process run: ${figure(reference(r).value)} ms per file (the queue run takes ${times(reference(r).ratio)})`];
    },
  },
  {
    cites: ['queue-segment-1-worker-slices-per-s', 'queue-segment-2-workers-slices-per-s'],
    cells(get) {
      const [one, two] = [get('queue-segment-1-worker-slices-per-s'), get('queue-segment-2-workers-slices-per-s')];
      return [
        'queue: 512x512 ISBI slices, shipped model, no TTA, 1 / 2 workers on this 2-core machine',
        `${figure(one.value)} / ${figure(two.value)} slices/s`,
        `in-process run: ${figure(reference(one).value)} slices/s (the queue's rate is ${times(reference(one).ratio)} / ${times(reference(two).ratio)} of it)`,
      ];
    },
  },
  {
    cites: ['serve-burst-1000-files-per-s'],
    cells(get) {
      const r = get('serve-burst-1000-files-per-s');
      return ['watch run, burst of 1,000 128x128 PNGs, with `--serve` and one page connected', `${figure(r.value)} files/s`, `without \`--serve\`: ${figure(reference(r).value)} files/s (${times(reference(r).ratio)})`];
    },
  },
];

/** Every entry the README cites, in table order. */
export const CITED: string[] = ROWS.flatMap((row) => row.cites);

function lookup(records: Records): Lookup {
  return (name) => {
    const r = records.entries[name];
    if (!r) throw new Error(`docs/benchmarks.json has no entry ${name}, which the README table cites: run npm run bench -- --filter ${name} --record`);
    return r;
  };
}

/** When, and how loaded the shared machine was (lowest-highest load average): `2026-11-29, load 6-7`. */
function when(r: BenchRecord): string {
  const load = [...new Set([...(r.loadAverage ?? [])].sort((a, b) => a - b).map((l) => l.toFixed(0)))].join('-');
  return `${r.date.slice(0, 10)}${load ? `, load ${load}` : ''}`;
}

function describeMachine(m: Record<string, unknown>): string {
  const parts = [
    m.cpus !== undefined ? `${m.cpus} cores${m.cpu ? ` (${m.cpu})` : ''}` : undefined,
    m.memoryGiB !== undefined ? `${m.memoryGiB} GiB` : undefined,
    m.node ? `Node ${m.node}` : undefined,
    m.platform ? String(m.platform) : undefined,
  ];
  return parts.filter(Boolean).join(', ');
}

export function renderTable(records: Records): string {
  const get = lookup(records);
  const lines = ['| benchmark | figure | reference in the same run | run: date, load average |', '|---|---|---|---|'];
  for (const row of ROWS) {
    const dates = [...new Set(row.cites.map((n) => when(get(n))))].join(' / ');
    lines.push(`| ${[...row.cells(get), dates].join(' | ')} |`);
  }
  const runs = new Set(CITED.map(get).map((r) => `${r.date.slice(0, 10)}: ${describeMachine(r.machine)}${r.note ? ` (${r.note})` : ''}`));
  lines.push('', `Machines: ${[...runs].join('; ')}.`);
  return lines.join('\n');
}

/** The weight-map sentence's figures, for the Training data section. */
export function renderWeightMap(records: Records): string {
  const get = lookup(records);
  const [isbi, dsb] = [get('weightmap-isbi-00'), get('weightmap-dsb-mask')];
  const part = (r: BenchRecord) => `${times(1 / reference(r).ratio)} faster`;
  const seconds = (r: BenchRecord) => `${figure(r.value)} s against ${figure(reference(r).value)} s`;
  return (
    `${part(isbi)} on a ${isbi.parameters?.size} ISBI label with ${isbi.parameters?.instances} cells (${seconds(isbi)} in the same run) ` +
    `and ${times(1 / reference(dsb).ratio)} on the ${dsb.parameters?.size} DSB 2018 nuclei mask with ${dsb.parameters?.instances} instances (${seconds(dsb)})`
  );
}

const SECTIONS: Record<string, (records: Records) => string> = { table: renderTable, weightmap: renderWeightMap };

/**
 * `readme` with the text between each pair of markers replaced by its rendering. A table
 * sits on lines of its own after its marker; an inline section sits inside its line.
 */
export function renderReadme(readme: string, records: Records, file = 'README.md'): string {
  let out = readme;
  for (const [name, render] of Object.entries(SECTIONS)) {
    const pattern = new RegExp(`(<!-- benchmarks:${name}(?: [^>]*)? -->)([\\s\\S]*?)(<!-- /benchmarks:${name} -->)`, 'g');
    const found = [...out.matchAll(pattern)];
    if (found.length !== 1) throw new Error(`${file}: expected one <!-- benchmarks:${name} --> ... <!-- /benchmarks:${name} --> pair, found ${found.length}`);
    const block = found[0][2].startsWith('\n');
    const text = render(records);
    out = out.replace(pattern, (_, open: string, __: string, close: string) => (block ? `${open}\n${text}\n${close}` : `${open}${text}${close}`));
  }
  return out;
}
