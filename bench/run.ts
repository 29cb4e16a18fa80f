/**
 * `npm run bench [-- --filter text] [--record]`: runs every bench/*.bench.ts, prints a
 * table, writes JSON; `--record` then takes the results the README cites into
 * docs/benchmarks.json and renders the README's figures from it.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, type Benchmark, type BenchResult } from './harness.js';
import { updateBenchmarks } from '../scripts/update-benchmarks.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined;
const record = args.includes('--record');
// The machine is shared: the 1-minute load average at the start and end says how quiet it was.
const loadAtStart = os.loadavg()[0];

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const all: (BenchResult & { group: string })[] = [];
for (const file of files) {
  const { benchmarks } = (await import(join(here, file))) as { benchmarks: Benchmark[] };
  for (const b of benchmarks) {
    if (filter && !b.group.includes(filter) && !b.name.includes(filter)) continue;
    process.stderr.write(`running ${b.group}/${b.name} ...\n`);
    for (const r of await b.run()) all.push({ group: b.group, ...r });
  }
}

const rows = all.map((r) => [
  r.group,
  r.name,
  `${fmt(r.value)} ${r.unit}`,
  r.reference ? `${r.reference.name} ${fmt(r.reference.value)} ${r.unit}` : '',
  r.reference ? `${r.reference.ratio.toFixed(2)}x` : '',
]);
const header = ['group', 'name', 'value', 'reference (same run)', 'ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));

const loadAverage = [loadAtStart, os.loadavg()[0]].map((l) => +l.toFixed(1));
const report = { date: new Date().toISOString(), machine: machine(), loadAverage, filter: filter ?? null, results: all };
const out = join(here, 'results');
await mkdir(out, { recursive: true });
const stamp = report.date.replace(/[:.]/g, '-');
await writeFile(join(out, `${stamp}.json`), JSON.stringify(report, null, 2));
await writeFile(join(out, 'latest.json'), JSON.stringify(report, null, 2));
console.log(`\nresults: bench/results/${stamp}.json`);
if (record) for (const line of await updateBenchmarks([{ path: `bench/results/${stamp}.json`, report }])) console.log(line);

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
