/**
 * Records bench reports into docs/benchmarks.json and renders the README's benchmark
 * figures from it:
 *
 *   npx tsx scripts/update-benchmarks.ts --record [REPORT.json ...]   # npm run bench:record [-- REPORT.json ...]
 *   npx tsx scripts/update-benchmarks.ts                              # npm run bench:readme (render only)
 *
 * REPORT.json defaults to bench/results/latest.json; of several, a later one wins.
 *
 * `npm run bench -- --filter NAME --record` does the first right after the run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { readRecords, recordReport, writeRecords, RECORDS_FILE, type BenchReport } from './benchmark-records.js';
import { CITED, renderReadme } from './benchmark-readme.js';

const README = 'README.md';

/** Records `reports` in order (a later one wins), rewrites the records and the README; returns what it did, in words. */
export async function updateBenchmarks(reports: { path: string; report: BenchReport }[]): Promise<string[]> {
  let records = await readRecords();
  const said: string[] = [];
  for (const { path, report } of reports) {
    const done = recordReport(records, report, CITED);
    records = done.records;
    said.push(`${path}: recorded ${done.recorded.length ? done.recorded.join(', ') : 'nothing the README cites'}`);
    if (done.failed.length) said.push(`${path}: kept the previous figures of ${done.failed.join(', ')}, which could not run`);
  }
  if (reports.length) await writeRecords(records, CITED);
  const readme = await readFile(README, 'utf8');
  const rendered = renderReadme(readme, records);
  if (rendered !== readme) await writeFile(README, rendered);
  said.push(`${README}: ${rendered === readme ? 'already up to date with' : 'benchmark figures rendered from'} ${RECORDS_FILE}`);
  return said;
}

export async function readReport(path: string): Promise<BenchReport> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BenchReport;
  } catch (error) {
    throw new Error(`${path}: cannot read the bench report: ${(error as Error).message}`, { cause: error });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [flag, ...given] = process.argv.slice(2);
  if (flag !== undefined && flag !== '--record') throw new Error(`scripts/update-benchmarks.ts: expected --record [REPORT.json ...] or nothing, got ${flag}`);
  const paths = flag ? (given.length ? given : ['bench/results/latest.json']) : [];
  const reports = await Promise.all(paths.map(async (path) => ({ path, report: await readReport(path) })));
  for (const line of await updateBenchmarks(reports)) console.log(line);
}
