/**
 * The README's benchmark figures are rendered from docs/benchmarks.json
 * (scripts/benchmark-readme.ts), and recording a bench report updates that file
 * (scripts/benchmark-records.ts): the README cannot drift from the recorded runs.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { recordReport, type BenchRecord, type BenchReport, type Records } from '../scripts/benchmark-records.js';
import { CITED, figure, renderReadme, renderTable, renderWeightMap } from '../scripts/benchmark-readme.js';

const machine = { cpus: 2, cpu: 'AMD EPYC', memoryGiB: 24, node: 'v20.20.2', platform: 'linux-x64' };

function entry(name: string, value: number, more: Partial<BenchRecord> = {}): BenchRecord {
  return { group: 'g', name, value, unit: 's', date: '2026-11-26T10:00:00.000Z', machine: { cpus: 2 }, ...more };
}

/** Every cited entry, with weight-map figures as the 2026-11-26 README gave them. */
function records(): Records {
  const entries: Record<string, BenchRecord> = {};
  for (const name of CITED) entries[name] = entry(name, 1, { reference: { name: 'pytorch-1.13-cpu-2-threads (same run)', value: 2, ratio: 0.5 }, parameters: { backend: 'onnxruntime-node' } });
  entries['weightmap-isbi-00'] = entry('weightmap-isbi-00', 0.044, { parameters: { size: '512x512', instances: 136 }, reference: { name: 'naive', value: 2.85, ratio: 0.044 / 2.85 } });
  entries['weightmap-dsb-mask'] = entry('weightmap-dsb-mask', 0.069, { parameters: { size: '512x512', instances: 125 }, reference: { name: 'naive', value: 2.51, ratio: 0.069 / 2.51 } });
  return { about: 'test', entries };
}

test("README.md's benchmark table and weight-map sentence are the rendering of docs/benchmarks.json", async () => {
  const readme = await readFile('README.md', 'utf8');
  const recorded = JSON.parse(await readFile('docs/benchmarks.json', 'utf8')) as Records;
  assert.equal(readme, renderReadme(readme, recorded), 'README.md differs from docs/benchmarks.json: run npm run bench:readme');
});

test('docs/benchmarks.json holds exactly the entries the README cites, each measured, dated and placed on a machine', async () => {
  const recorded = JSON.parse(await readFile('docs/benchmarks.json', 'utf8')) as Records;
  assert.deepEqual(Object.keys(recorded.entries), CITED);
  for (const [name, r] of Object.entries(recorded.entries)) {
    assert.equal(r.name, name);
    assert.ok(Number.isFinite(r.value) && r.value > 0, `${name}: value ${r.value}`);
    assert.match(r.date, /^\d{4}-\d{2}-\d{2}/, `${name}: date`);
    assert.ok(typeof r.machine.cpus === 'number', `${name}: machine`);
  }
});

test('a weight-map row shows the time, the reference time and the speed-up, as written by hand', () => {
  const table = renderTable(records()).split('\n');
  assert.ok(table.includes('| weight map, ISBI label 00 (136 cells) | 0.044 s | one EDT per cell + sort: 2.85 s (65x) | 2026-11-26 |'), table.join('\n'));
  assert.ok(table.includes('| weight map, DSB 2018 nuclei (125 instances) | 0.069 s | the same: 2.51 s (36x) | 2026-11-26 |'), table.join('\n'));
  assert.equal(
    renderWeightMap(records()),
    '65x faster on a 512x512 ISBI label with 136 cells (0.044 s against 2.85 s in the same run) and 36x on the 512x512 DSB 2018 nuclei mask with 125 instances (0.069 s against 2.51 s)',
  );
});

test('a row mixing runs shows both dates and loads, and a PyTorch figure not measured in the run says so', () => {
  const r = records();
  r.entries['unet-forward-572-f16-tfjs-wasm'] = { ...r.entries['unet-forward-572-f16-tfjs-wasm'], date: '2026-12-01T08:00:00.000Z', loadAverage: [2.6, 1.2], reference: { name: 'pytorch-1.13-cpu-2-threads (FINDINGS, not same-run)', value: 0.22, ratio: 3 } };
  r.entries['unet-forward-572-f16'] = { ...r.entries['unet-forward-572-f16'], reference: { name: 'pytorch-1.13-cpu-2-threads (FINDINGS, not same-run)', value: 0.22, ratio: 0.5 } };
  const row = renderTable(r).split('\n').find((l) => l.startsWith('| U-Net 572 -> 388 forward, 16 filters'));
  assert.equal(row, '| U-Net 572 -> 388 forward, 16 filters: ONNX Runtime / ONNX Runtime | 1 s / 1 s | PyTorch 1.13 CPU (quoted, not measured in the run): 0.22 s (0.50x / 3.00x) | 2026-11-26 / 2026-12-01, load 1-3 |');
});

test('figures keep 3 significant digits, whole numbers from 100', () => {
  assert.deepEqual([0.04412, 2.849, 9.0, 187.3, 1234.5, 0.000123456].map(figure), ['0.0441', '2.85', '9', '187', '1235', '0.000123']);
});

test('recording a report replaces the cited entries it measured, keeps the others and never records a failed case', () => {
  const before = records();
  const report: BenchReport = {
    date: '2026-11-29T23:00:00.000Z',
    machine,
    loadAverage: [6.2, 7.4],
    filter: 'weightmap',
    results: [
      { group: 'weightmap', name: 'weightmap-isbi-00', value: 0.05, unit: 's', reference: { name: 'naive', value: 3, ratio: 0.05 / 3 } },
      { group: 'weightmap', name: 'weightmap-isbi-00-border-all', value: 0.06, unit: 's' },
      { group: 'weightmap', name: 'weightmap-dsb-mask', value: NaN, unit: 's' },
    ],
  };
  const { records: after, recorded, failed } = recordReport(before, report, CITED);
  assert.deepEqual(recorded, ['weightmap-isbi-00']);
  assert.deepEqual(failed, ['weightmap-dsb-mask']);
  assert.deepEqual(after.entries['weightmap-isbi-00'], { ...report.results[0], date: report.date, machine, loadAverage: [6.2, 7.4] });
  assert.equal(after.entries['weightmap-dsb-mask'], before.entries['weightmap-dsb-mask']);
  assert.equal(after.entries['weightmap-isbi-00-border-all'], undefined);
  assert.equal(before.entries['weightmap-isbi-00'].value, 0.044, 'the records given are not changed');
});

test('rendering fills each pair of markers and refuses a README without them', () => {
  const readme = 'a\n<!-- benchmarks:table (generated) -->\nold\n<!-- /benchmarks:table -->\nis <!-- benchmarks:weightmap -->old<!-- /benchmarks:weightmap --> here\n';
  const out = renderReadme(readme, records());
  assert.ok(out.startsWith('a\n<!-- benchmarks:table (generated) -->\n| benchmark | figure |'));
  assert.ok(out.includes('\n<!-- /benchmarks:table -->\nis <!-- benchmarks:weightmap -->65x faster on'));
  assert.ok(out.endsWith('(0.069 s against 2.51 s)<!-- /benchmarks:weightmap --> here\n'));
  assert.equal(renderReadme(out, records()), out);
  assert.throws(() => renderReadme('no markers\n', records()), /README\.md: expected one <!-- benchmarks:table --> \.\.\. <!-- \/benchmarks:table --> pair, found 0/);
});
