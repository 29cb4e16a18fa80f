/**
 * The GPU check's entry in the kit (bundled as app/check.js, run by run.sh with the
 * kit's node). Without `--stage` it runs every stage of the profile, each in a child
 * process of its own under its own time limit and inside the whole check's limit: a
 * stage that hangs is killed (its process group) and recorded as `timeout`, one that
 * fails is recorded with its error, and the rest go on. The JSON is rewritten after
 * every stage, so that what ran is there even if the check itself is stopped.
 *
 *   node app/check.js --out FILE [--profile full|dry-run] [--only a,b] [--limit NAME=SECONDS ...] [--hold NAME]
 *   node app/check.js --stage NAME --profile P --result FILE   (one stage; used by the above)
 *
 * `--hold NAME` rehearses a hung stage: NAME waits forever instead of running, so that
 * its kill at its limit, and the stages after it, can be seen.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { profiles, stageOrder, type ProfileName } from './profile.js';
import { message, runStage } from './stages.js';

export const SCHEMA = 'unetflow-gpu-check/1';

export type StageStatus = 'ok' | 'error' | 'timeout' | 'skipped';

export interface StageRecord {
  status: StageStatus;
  limitSeconds: number;
  seconds?: number;
  result?: Record<string, unknown>;
  error?: string;
  stderrTail?: string;
}

/** Seconds kept back from the whole limit for writing the JSON and the runner's exit. */
const RESERVE_SECONDS = 10;
/** A stage left with less than this is skipped rather than started. */
const MIN_STAGE_SECONDS = 5;

const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    profile: { type: 'string', default: 'full' },
    result: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    limit: { type: 'string', multiple: true },
    hold: { type: 'string' },
  },
});
const kit = join(dirname(fileURLToPath(import.meta.url)), '..');
const profileName = values.profile as ProfileName;
const profile = profiles[profileName];
if (!profile) {
  console.error(`--profile: '${values.profile}' is not one of ${Object.keys(profiles).join(', ')}`);
  process.exit(2);
}

if (values.stage) {
  if (values.hold === values.stage) await new Promise(() => setInterval(() => {}, 60_000));
  await stageProcess(values.stage, values.result!);
} else {
  if (!values.out) {
    console.error('--out FILE is required');
    process.exit(2);
  }
  const limits: Record<string, number> = {};
  for (const pair of values.limit ?? []) {
    const [name, seconds] = pair.split('=');
    if (!name || !(Number(seconds) > 0)) {
      console.error(`--limit: expected NAME=SECONDS, got '${pair}'`);
      process.exit(2);
    }
    limits[name] = Number(seconds);
  }
  await orchestrate(values.out, values.only?.split(',').filter(Boolean), limits);
}

/** One stage in this process: its result or error goes to `resultFile` as JSON. */
async function stageProcess(name: string, resultFile: string): Promise<void> {
  // Inside the check's own scratch folder, which it removes, so that a stage killed at its limit leaves nothing behind.
  const scratch = await mkdtemp(join(dirname(resultFile), `${name.replace(/[^a-z0-9-]/gi, '_')}-`));
  let record: { result?: Record<string, unknown>; error?: string };
  try {
    record = { result: await runStage(name, { kit, profile, scratch }) };
  } catch (error) {
    const partial = (error as { result?: Record<string, unknown> }).result;
    record = { error: message(error), ...(partial && { result: partial }) };
  }
  await writeFile(resultFile, JSON.stringify(record, replacer));
  await rm(scratch, { recursive: true, force: true });
  // Native engines (Dawn, ONNX Runtime) may keep the event loop alive.
  process.exit(0);
}

/** Infinity and NaN are not JSON: written as strings, so that a failed figure is still seen. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

async function orchestrate(out: string, only: string[] | undefined, limits: Record<string, number>): Promise<void> {
  const started = Date.now();
  const deadline = started + (profile.totalSeconds - RESERVE_SECONDS) * 1000;
  const manifestFile = join(kit, 'manifest.json');
  const report = {
    schema: SCHEMA,
    profile: profile.name,
    note: profile.note,
    startedAt: new Date(started).toISOString(),
    finishedAt: undefined as string | undefined,
    seconds: undefined as number | undefined,
    totalLimitSeconds: profile.totalSeconds,
    kit: existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as unknown) : undefined,
    stages: {} as Record<string, StageRecord>,
  };
  const scratch = await mkdtemp(join(tmpdir(), 'unetflow-gpu-check-'));
  const names = only ?? stageOrder;
  for (const name of names) {
    const left = (deadline - Date.now()) / 1000;
    const limitSeconds = Math.min(limits[name] ?? profile.limits[name] ?? 60, Math.floor(left));
    if (left < MIN_STAGE_SECONDS) {
      report.stages[name] = { status: 'skipped', limitSeconds, error: `skipped: ${Math.max(0, left).toFixed(0)} s left of the check's ${profile.totalSeconds} s` };
    } else {
      process.stderr.write(`gpu-check: ${name} (limit ${limitSeconds} s)\n`);
      report.stages[name] = await runChild(name, limitSeconds, join(scratch, `${names.indexOf(name)}.json`), values.hold);
      const r = report.stages[name];
      process.stderr.write(`gpu-check: ${name}: ${r.status} in ${r.seconds?.toFixed(1)} s${r.error ? `: ${r.error.split('\n')[0]}` : ''}\n`);
    }
    await writeReport(out, report);
  }
  report.finishedAt = new Date().toISOString();
  report.seconds = (Date.now() - started) / 1000;
  await writeReport(out, report);
  await rm(scratch, { recursive: true, force: true });
  process.stderr.write(`gpu-check: wrote ${out}\n`);
}

/** Written whole, then renamed: never half a JSON. */
async function writeReport(out: string, report: object): Promise<void> {
  await writeFile(`${out}.partial`, `${JSON.stringify(report, replacer, 2)}\n`);
  await rename(`${out}.partial`, out);
}

function runChild(name: string, limitSeconds: number, resultFile: string, hold: string | undefined): Promise<StageRecord> {
  const script = fileURLToPath(import.meta.url);
  const t = Date.now();
  return new Promise((resolve) => {
    // Its own process group, so that a timeout also ends what it started (the CLI, worker threads' helpers).
    const child = spawn(process.execPath, [script, '--stage', name, '--profile', profile.name, '--result', resultFile, ...(hold ? ['--hold', hold] : [])], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, limitSeconds * 1000);
    const finish = async (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      const seconds = (Date.now() - t) / 1000;
      const stderrTail = tidy(stderr).slice(-3000) || undefined;
      if (timedOut) return resolve({ status: 'timeout', limitSeconds, seconds, error: `killed after its limit of ${limitSeconds} s`, stderrTail });
      let record: { result?: Record<string, unknown>; error?: string } | undefined;
      try {
        record = JSON.parse(await readFile(resultFile, 'utf8')) as typeof record;
      } catch {
        record = undefined;
      }
      if (!record) return resolve({ status: 'error', limitSeconds, seconds, error: `the stage's process ended (${signal ?? `exit code ${code}`}) without a result`, stderrTail });
      resolve({ status: record.error ? 'error' : 'ok', limitSeconds, seconds, ...record, ...(record.error && { stderrTail }) });
    };
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ status: 'error', limitSeconds, seconds: (Date.now() - t) / 1000, error: `could not start: ${error.message}` });
    });
    child.on('close', (code, signal) => void finish(code, signal));
  });
}

/** Drops the lines every run prints that say nothing (Dawn's two limit warnings, tfjs's hint to install tfjs-node). */
function tidy(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/artificially reduced|tfjs-node for more details|looks like you are running TensorFlow\.js|^=+$|^\s*$/.test(l))
    .join('\n');
}
