/**
 * `npm run gpu-check -- --build`: builds the kit into gpu-kit/ (git-ignored), fails if
 * it is over what a device-tool call can carry beside the working tree.
 * `npm run gpu-check -- --dry-run`: builds a kit (fast compression) into a temporary
 * folder and runs it here on a software Vulkan adapter (Mesa >= 25 lavapipe), then
 * checks the JSON: every stage ran, the forward passes match the reference.
 *
 * Options: --out DIR (the kit's folder), --keep (dry run: keep the kit and JSON).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildKit } from './build.js';
import { checkReport, LAVAPIPE_ICD } from './report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({ options: { build: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, out: { type: 'string' }, keep: { type: 'boolean' } } });

if (values.build) {
  const result = await buildKit({ root, out: values.out ?? join(root, 'gpu-kit') });
  if (!result.withinLimit) {
    console.error(`gpu-kit: ${(result.bytes / 2 ** 20).toFixed(1)} MiB is over the ${(result.limitBytes / 2 ** 20).toFixed(1)} MiB a device-tool call can carry beside this working tree`);
    process.exit(1);
  }
  console.log(`gpu-kit: ready; on a lent machine: run({ command: 'bash gpu-kit/run.sh', carry: ['gpu-kit'], timeout_s: 540 })`);
} else if (values['dry-run']) {
  const scratch = mkdtempSync(join(tmpdir(), 'unetflow-gpu-dry-run-'));
  const out = values.out ?? join(scratch, 'kit');
  try {
    const t = Date.now();
    await buildKit({ root, out, fast: true });
    const json = join(scratch, 'gpu-check.json');
    const run = spawnSync('bash', [join(out, 'run.sh'), '--dry-run'], { stdio: 'inherit', env: { ...process.env, GPU_CHECK_JSON: json, VK_DRIVER_FILES: LAVAPIPE_ICD, VK_ICD_FILENAMES: LAVAPIPE_ICD } });
    const problems = run.status === 0 ? checkReport(JSON.parse(readFileSync(json, 'utf8')), 'dry-run') : [`run.sh exited with ${run.status ?? run.signal}`];
    console.log(`gpu-check dry run: ${((Date.now() - t) / 1000).toFixed(0)} s${values.keep ? `; JSON ${json}` : ''}`);
    if (problems.length) {
      console.error(`gpu-check dry run failed:\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log('gpu-check dry run: every stage ran; the forward passes match the reference');
    }
  } finally {
    if (!values.keep) rmSync(scratch, { recursive: true, force: true });
  }
} else {
  console.error('usage: npm run gpu-check -- --build [--out DIR] | --dry-run [--out DIR] [--keep]');
  process.exit(2);
}
