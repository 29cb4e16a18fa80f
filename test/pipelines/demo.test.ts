/**
 * `npm start`'s job (pipelines/demo.yaml: the three bundled ISBI slices, dihedral
 * augmentation, batches of 4) through the real CLI on the wasm backend, at its real
 * size: it used to overrun the wasm heap on every tile. Where ONNX Runtime is installed,
 * the default run is the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunEvent } from '../../src/events.js';
import { inspectImage, readImage } from '../../src/io/read.js';
import { ofType, tempDir } from '../helpers/files.js';
import { needs } from '../helpers/optional.js';

const SLICES = ['00', '01', '02'];

async function runDemo(dir: string, backend?: string): Promise<{ events: RunEvent[]; stderr: string }> {
  const args = ['bin/unetflow.js', 'run', 'pipelines/demo.yaml', '--json', '--set', `steps.6.save.dir=${dir}`, ...(backend ? ['--backend', backend] : [])];
  const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 24, timeout: 170_000 });
  return { events: stdout.trim().split('\n').map((line) => JSON.parse(line) as RunEvent), stderr };
}

let wasmDir: string | undefined;

test('the demo pipeline segments all three slices on wasm, with nothing from the wasm runtime on the terminal', { timeout: 180_000 }, async () => {
  wasmDir = await tempDir('unetflow-demo-wasm-');
  const { events, stderr } = await runDemo(wasmDir, 'wasm');
  const [stats] = ofType(events, 'stats');
  assert.deepEqual([stats.done, stats.failed], [3, 0], ofType(events, 'file-failed').map((e) => e.message).join('\n'));
  assert.deepEqual(ofType(events, 'file-done').map((e) => e.id).sort(), SLICES);
  assert.deepEqual(ofType(events, 'backend').map((e) => e.name), ['wasm']);
  assert.doesNotMatch(stderr, /wasm:\/\/|Aborted\(/);
});

test('its probabilities are ONNX Runtime\'s within 1e-4 and its masks the same within 0.1% of pixels', { timeout: 120_000, ...needs('onnxruntime-node') }, async () => {
  const wasmRun = wasmDir;
  assert.ok(wasmRun, 'the wasm run above');
  const ortDir = await tempDir('unetflow-demo-ort-');
  try {
    const { events } = await runDemo(ortDir);
    assert.deepEqual(ofType(events, 'backend').map((e) => e.name), ['onnxruntime']);
    assert.equal(ofType(events, 'stats')[0].done, 3);
    for (const id of SLICES) {
      const wasmFile = join(wasmRun, `${id}.probabilities.tif`);
      const ortFile = join(ortDir, `${id}.probabilities.tif`);
      const { pages } = await inspectImage(ortFile);
      assert.equal(pages, 2, 'one page per class');
      let difference = 0;
      for (let page = 0; page < pages; page++) {
        const onWasm = (await readImage(wasmFile, page)).data;
        const onOrt = (await readImage(ortFile, page)).data;
        assert.equal(onWasm.length, 512 * 512);
        for (let i = 0; i < onWasm.length; i++) difference = Math.max(difference, Math.abs(onWasm[i] - onOrt[i]));
      }
      // Measured: 1.7e-6 at most, and identical masks.
      assert.ok(difference < 1e-4, `${id}: probabilities differ by up to ${difference}`);
      const maskOnWasm = (await readImage(join(wasmRun, `${id}.mask.png`))).data;
      const maskOnOrt = (await readImage(join(ortDir, `${id}.mask.png`))).data;
      let differing = 0;
      for (let i = 0; i < maskOnWasm.length; i++) if (maskOnWasm[i] !== maskOnOrt[i]) differing++;
      assert.ok(differing <= 0.001 * maskOnWasm.length, `${id}: masks differ in ${differing} pixels`);
    }
  } finally {
    await rm(ortDir, { recursive: true, force: true });
  }
});

test.after(async () => {
  if (wasmDir) await rm(wasmDir, { recursive: true, force: true });
});
