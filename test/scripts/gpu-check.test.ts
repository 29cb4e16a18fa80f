/**
 * The GPU check's kit, rehearsed on Mesa's lavapipe as a lent GPU machine would run it:
 * built once (fast compression), its runner started with no Node on the PATH, the
 * dry-run profile's sizes. The kit is built and run once for all the tests here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKit, type BuildResult } from '../../scripts/gpu-check/build.js';
import { profiles, stageOrder } from '../../scripts/gpu-check/profile.js';
import { tileCovering } from '../../scripts/gpu-check/stages.js';
import { checkReport, TOLERANCE } from '../../scripts/gpu-check/report.js';
import { LAVAPIPE_ICD, lavapipeInstalled, unavailable } from '../helpers/optional.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** What the runner may use from the machine: a shell and the tools to unpack, no node. */
const runnerTools = ['bash', 'sh', 'tar', 'xz', 'mktemp', 'dirname', 'date', 'rm', 'mkdir', 'tee'];

function why(): string | undefined {
  if (!lavapipeInstalled()) return `no Mesa >= 25 lavapipe at ${LAVAPIPE_ICD} (.ci/run installs it)`;
  for (const name of ['onnxruntime-node', 'webgpu', '@tensorflow/tfjs-backend-webgpu', 'sharp']) {
    const reason = unavailable(name);
    if (reason) return `the kit carries ${name}: ${reason}`;
  }
  for (const tool of [...runnerTools, 'strip', 'dpkg', 'dpkg-query']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  for (const pkg of ['libvulkan1', 'libglvnd0']) {
    if (spawnSync('dpkg-query', ['-W', pkg]).status !== 0) return `the Debian package ${pkg} is not installed`;
  }
  return undefined;
}
const skip = why();

/** A PATH of links to `runnerTools` alone. */
function narrowPath(dir: string): string {
  mkdirSync(dir);
  for (const tool of runnerTools) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(dir, tool));
  }
  return dir;
}

test('the full check times 512² slices and 2048² images as the tiles that cover them', () => {
  const shipped = { depth: 4, baseFilters: 16, classes: 2, inputChannels: 1, padding: 'valid' as const, dropout: 0.5 };
  assert.deepEqual(tileCovering(profiles.full.sliceSide, shipped), { input: 700, output: 516 });
  assert.deepEqual(tileCovering(profiles.full.imageSide, shipped), { input: 2236, output: 2052 });
});

describe('the GPU check kit', { skip: skip ?? false }, () => {
  let scratch: string;
  let kit: BuildResult;
  let lavapipe: { status: number | null; stderr: string };
  let report: Record<string, unknown> & { stages: Record<string, { status: string; error?: string; result?: Record<string, unknown> }> };
  const env = (json: string, path: string) => {
    const e: NodeJS.ProcessEnv = { ...process.env, PATH: path, GPU_CHECK_JSON: json, VK_DRIVER_FILES: LAVAPIPE_ICD, VK_ICD_FILENAMES: LAVAPIPE_ICD };
    delete e.OUT;
    return e;
  };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'unetflow-gpu-check-test-'));
    kit = await buildKit({ root, out: join(scratch, 'kit'), fast: true, log: () => {} });
    const path = narrowPath(join(scratch, 'bin'));
    const json = join(scratch, 'dry-run.json');
    const run = spawnSync('bash', [join(kit.out, 'run.sh'), '--dry-run'], { env: env(json, path), encoding: 'utf8', timeout: 400_000 });
    lavapipe = { status: run.status, stderr: run.stderr };
    report = JSON.parse(readFileSync(json, 'utf8')) as typeof report;
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('the kit is a runner, one payload and a manifest, and says how large it is', () => {
    assert.deepEqual(readdirSync(kit.out).sort(), ['manifest.json', 'payload.tar.xz', 'run.sh']);
    assert.ok(statSync(join(kit.out, 'run.sh')).mode & 0o100, 'run.sh is executable');
    assert.ok(kit.bytes > 20 * 2 ** 20, `a kit with node and the native engines is large: ${kit.bytes} bytes`);
    assert.ok(kit.workingTreeBytes > 0 && kit.limitBytes < 64 * 2 ** 20);
    const manifest = JSON.parse(readFileSync(join(kit.out, 'manifest.json'), 'utf8')) as { node: string; reference: { tiles: Record<string, unknown> } };
    assert.equal(manifest.node, process.version);
    assert.ok(Object.keys(manifest.reference.tiles).length >= 2, 'references for the full and the dry-run forward tile');
  });

  test('the runner runs the dry run on lavapipe with no node on the PATH, every stage succeeding', () => {
    assert.equal(lavapipe.status, 0, lavapipe.stderr.slice(-3000));
    assert.deepEqual(checkReport(report, 'dry-run'), []);
    assert.deepEqual(Object.keys(report.stages), stageOrder);
  });

  test('the shipped model on ORT-WebGPU and on tfjs-WebGPU matches the probabilities computed on ORT-CPU at build', () => {
    for (const engine of ['onnxruntime-webgpu', 'tfjs-webgpu']) {
      const forward = report.stages[`forward:${engine}`].result!;
      assert.ok((forward.maxAbsDiff as number) <= TOLERANCE, `${engine}: max abs diff ${String(forward.maxAbsDiff)}`);
      assert.ok((forward.values as number) > 0);
    }
    const providers = report.stages['forward:onnxruntime-webgpu'].result!.nodesByProvider as Record<string, number>;
    assert.deepEqual(Object.keys(providers), ['WebGpuExecutionProvider'], 'every node on the WebGPU provider');
  });

  test('the adapter Dawn sees and the CLI backend line name the software adapter, and tfjs-node-gpu says why it is absent', () => {
    const adapters = report.stages.adapters.result!;
    assert.equal(adapters.hardware, false);
    assert.equal((adapters.highPerformance as { info: { architecture: string } }).info.architecture, 'software');
    const cli = report.stages.cli.result!;
    assert.match(String(cli.backendLines), /backend .*software adapter/);
    assert.match(String(report.stages['train:tfjs-node-gpu'].result!.why), /CUDA 11\.2/);
  });

  test('a stage that hangs is killed at its limit and recorded, and the stages after it still run', () => {
    const json = join(scratch, 'held.json');
    const run = spawnSync('bash', [join(kit.out, 'run.sh'), '--dry-run', '--only', 'adapters,environment', '--hold', 'adapters', '--limit', 'adapters=2'], {
      env: env(json, join(scratch, 'bin')),
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    const held = JSON.parse(readFileSync(json, 'utf8')) as typeof report;
    assert.equal(held.stages.adapters.status, 'timeout');
    assert.match(held.stages.adapters.error!, /killed after its limit of 2 s/);
    assert.equal(held.stages.environment.status, 'ok');
    assert.equal(typeof held.seconds, 'number');
  });
});
