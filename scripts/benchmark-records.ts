/**
 * docs/benchmarks.json: the bench results that the README's Benchmarks table cites, one
 * entry per result name, each with the date and machine of the run that measured it.
 * Recording a bench report (bench/results/*.json) replaces the entries it measured and
 * keeps the others, so a table can mix a fresh cheap run with older expensive ones.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { BenchResult } from '../bench/harness.js';

export const RECORDS_FILE = 'docs/benchmarks.json';

/** What bench/run.ts writes to bench/results/. */
export interface BenchReport {
  date: string;
  machine: Record<string, unknown>;
  /** 1-minute load average at the start and the end of the run. */
  loadAverage?: number[];
  filter: string | null;
  results: (BenchResult & { group: string })[];
}

export interface BenchRecord extends BenchResult {
  group: string;
  /** ISO date of the run. */
  date: string;
  machine: Record<string, unknown>;
  loadAverage?: number[];
  /** Where the figure came from, when not from a kept bench report. */
  note?: string;
}

export interface Records {
  about: string;
  entries: Record<string, BenchRecord>;
}

export interface Recorded {
  records: Records;
  /** Cited results taken from the report. */
  recorded: string[];
  /** Cited results the report has but could not measure (NaN): their old entries stay. */
  failed: string[];
}

export async function readRecords(path = RECORDS_FILE): Promise<Records> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Records;
  } catch (error) {
    throw new Error(`${path}: cannot read the recorded benchmarks: ${(error as Error).message}`, { cause: error });
  }
}

/** Entries in the order of `cited`, so that a re-recording changes only the lines it must. */
export async function writeRecords(records: Records, cited: readonly string[], path = RECORDS_FILE): Promise<void> {
  const order = (name: string) => (cited.includes(name) ? cited.indexOf(name) : cited.length);
  const entries = Object.fromEntries(Object.entries(records.entries).sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b)));
  await writeFile(path, JSON.stringify({ ...records, entries }, null, 2) + '\n');
}

/** Takes the results of `report` that the table cites (`cited`) into `records`. */
export function recordReport(records: Records, report: BenchReport, cited: readonly string[]): Recorded {
  const entries = { ...records.entries };
  const recorded: string[] = [];
  const failed: string[] = [];
  for (const { group, ...result } of report.results) {
    if (!cited.includes(result.name)) continue;
    if (!Number.isFinite(result.value)) {
      failed.push(result.name);
      continue;
    }
    entries[result.name] = { group, ...result, date: report.date, machine: report.machine, ...(report.loadAverage ? { loadAverage: report.loadAverage } : {}) };
    recorded.push(result.name);
  }
  return { records: { ...records, entries }, recorded, failed };
}
