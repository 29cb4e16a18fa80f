/**
 * The bioimage.io spec's example package (../shared/data/bioimageio/unet2d_nuclei_broad:
 * same padding, halo 32, fixed 512 px, zero-mean/unit-variance in, sigmoid out, ONNX
 * opset 20) run by unetflow: its own test tensors, check-model, a pipeline segmenting
 * the DSB 2018 nuclei image, zips, and the errors for what unetflow cannot run.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { firstValueFrom, from, toArray } from 'rxjs';
import { parse, stringify } from 'yaml';
import { load } from '../../../operators/load.js';
import { mirror } from '../../../operators/mirror.js';
import { stitch } from '../../../operators/stitch.js';
import { threshold } from '../../../operators/threshold.js';
import { instances } from '../../../operators/instances.js';
import { tile } from '../../../operators/tile.js';
import { unet } from '../../../operators/unet.js';
import { checkUnet } from '../../../operators/unet.js';
import { readImage } from '../../../src/io/read.js';
import { npyToFloat32, readNpy } from '../../../src/io/npy.js';
import { checkPackage } from '../../../src/model/bioimageio/check.js';
import { openPackage } from '../../../src/model/bioimageio/package.js';
import { openPackageSession, predictSample } from '../../../src/model/bioimageio/session.js';
import { loadPackageTfjs } from '../../../src/model/bioimageio/tfjs.js';
import { needs } from '../../helpers/optional.js';

const EXAMPLE = '../shared/data/bioimageio/unet2d_nuclei_broad';
const DSB = '../shared/data/dsb2018-nuclei';
const ort = needs('onnxruntime-node');

/** A copy of the example with its description changed by `edit`. */
async function variant(edit: (rdf: Record<string, any>) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-bioimageio-'));
  await cp(EXAMPLE, dir, { recursive: true });
  const rdf = parse(await readFile(join(dir, 'bioimageio.yaml'), 'utf8'));
  edit(rdf);
  await writeFile(join(dir, 'bioimageio.yaml'), stringify(rdf));
  return dir;
}

test("the example package reproduces its test_output.npy through unetflow's preprocessing, ONNX Runtime and postprocessing", ort, async () => {
  const pkg = openPackage(EXAMPLE);
  const session = await openPackageSession(pkg, 2);
  try {
    const x = readNpy(pkg.read('test_input.npy'));
    const expected = npyToFloat32(readNpy(pkg.read('test_output.npy')));
    const y = await predictSample(session, { data: npyToFloat32(x), shape: x.shape, axes: session.inputAxes });
    assert.deepEqual(y.shape, [1, 1, 512, 512]);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(y.data[i] - expected[i]));
    assert.ok(worst < 1e-5, `max |difference| ${worst} (measured 1.7e-6)`);
  } finally {
    await session.release();
  }
});

test('check-model passes the example: checksums, its test tensors, its fixed size, and says which tools run which weights', ort, async () => {
  const report = await checkPackage(openPackage(EXAMPLE));
  assert.ok(report.ok, report.lines.map((l) => l.message).join('\n'));
  const text = report.lines.map((l) => l.message).join('\n');
  assert.match(text, /weights\.onnx: weights\.onnx: sha256 matches/);
  assert.match(text, /test tensors, batch 1: probability \[1,1,512,512\] agrees with test_output\.npy to \d\.\d\de-[6-9]/);
  assert.match(text, /batch 2: not tested, the batch size is fixed to 1/);
  assert.match(text, /weights onnx: runs in bioimageio\.core, ilastik, unetflow \(deepImageJ \(Fiji\): not with opset 20/);
  assert.match(text, /weights\.torchscript: weights\.pt: not in the package \(torchscript weights cannot be used from this copy\)/);
});

test('check-model fails a package whose file no longer matches its sha256, and one whose test output is wrong', ort, async () => {
  const dir = await variant(() => {});
  try {
    const bytes = await readFile(join(dir, 'test_output.npy'));
    bytes[bytes.length - 1] ^= 0x40; // one float's sign-adjacent bits: a different value
    await writeFile(join(dir, 'test_output.npy'), bytes);
    const report = await checkPackage(openPackage(dir));
    assert.equal(report.ok, false);
    const failed = report.lines.filter((l) => !l.ok).map((l) => l.message).join('\n');
    assert.match(failed, /outputs\[0\]\.test_tensor: test_output\.npy has sha256 [0-9a-f]{64}, the description says 39925fb3/);
    assert.match(failed, /test tensors, batch 1: .*: 1 values outside/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a zipped package runs like the folder', ort, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-bioimageio-'));
  try {
    const names = ['bioimageio.yaml', 'weights.onnx', 'test_input.npy', 'test_output.npy', 'test_input.png', 'test_output.png', 'cover0.png'];
    const zip = join(dir, 'nuclei.zip');
    await writeFile(zip, zipSync(Object.fromEntries(await Promise.all(names.map(async (n) => [n, new Uint8Array(await readFile(join(EXAMPLE, n)))])))));
    const report = await checkPackage(openPackage(zip));
    assert.ok(report.ok, report.lines.map((l) => l.message).join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the example segments the DSB 2018 nuclei image in a pipeline (tiles with the halo cropped, threshold, instances): foreground IoU >= 0.78 against mask.tif', ort, async () => {
  const model = { model: EXAMPLE };
  const [sample] = await firstValueFrom(
    from([`${DSB}/image.tif`]).pipe(load({ channels: 1 }), mirror(model), tile(model), unet({ ...model, keepSeconds: 0 }), stitch(), threshold({ class: 0, at: 0.5 }), instances({ minArea: 10 }), toArray()),
  );
  const truth = await readImage(`${DSB}/mask.tif`);
  const found = sample.instances!;
  assert.deepEqual([found.width, found.height], [512, 512]);
  let both = 0;
  let either = 0;
  for (let i = 0; i < truth.data.length; i++) {
    const [t, f] = [truth.data[i] > 0, found.data[i] > 0];
    both += +(t && f);
    either += +(t || f);
  }
  const iou = both / either;
  assert.ok(iou >= 0.78, `IoU ${iou.toFixed(4)} (measured 0.7846)`);
  let objects = 0;
  for (const v of found.data) objects = Math.max(objects, v);
  // A plain threshold merges touching nuclei (the mask has 125): measured 74.
  assert.ok(objects >= 60 && objects <= 125, `${objects} objects`);
});

test('an unknown operation and a package without ONNX weights are clear errors naming what there is', ort, async () => {
  const unknown = await variant((rdf) => (rdf.inputs[0].preprocessing[1] = { id: 'scale_mean_variance', kwargs: { reference_tensor: 'raw' } }));
  const torch = await variant((rdf) => delete rdf.weights.onnx);
  try {
    const pkg = openPackage(unknown);
    const session = await openPackageSession(pkg, 1);
    const x = readNpy(pkg.read('test_input.npy'));
    await assert.rejects(predictSample(session, { data: npyToFloat32(x), shape: x.shape, axes: session.inputAxes }).finally(() => session.release()), /raw\.preprocessing\[1\] scale_mean_variance: unetflow does not run the operation 'scale_mean_variance'; it runs ensure_dtype, scale_range, zero_mean_unit_variance/);
    await assert.rejects(checkUnet({ model: unknown }), /inputs\[0\]\.preprocessing uses the operation 'scale_mean_variance', which unetflow does not run; it runs ensure_dtype, /);
    await assert.rejects(openPackageSession(openPackage(torch), 1), /the package offers torchscript, pytorch_state_dict; unetflow runs onnx weights only/);
    await assert.rejects(checkUnet({ model: torch }), /the package offers torchscript, pytorch_state_dict/);
    await assert.rejects(loadPackageTfjs(EXAMPLE), /no tensorflow_js weights \(it offers onnx, torchscript, pytorch_state_dict\): unetflow fine-tunes only packages it exported/);
  } finally {
    await rm(unknown, { recursive: true, force: true });
    await rm(torch, { recursive: true, force: true });
  }
});

test('without ONNX Runtime, running a package is an error that says it needs onnxruntime-node and how to install it', async () => {
  const before = process.env.UNETFLOW_WITHOUT;
  process.env.UNETFLOW_WITHOUT = 'onnxruntime-node';
  try {
    await assert.rejects(openPackageSession(openPackage(EXAMPLE), 1), /running a bioimage\.io package needs ONNX Runtime \(onnxruntime-node: not installed \(UNETFLOW_WITHOUT\)\); install it with `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node`/);
    const run = firstValueFrom(from([`${DSB}/image.tif`]).pipe(load({ channels: 1 }), mirror({ model: EXAMPLE }), tile({ model: EXAMPLE }), unet({ model: EXAMPLE, keepSeconds: 0 }), toArray()));
    await assert.rejects(run, (e: Error) => e.name === 'ConfigError' && /cannot run the model .*needs ONNX Runtime/.test(e.message));
  } finally {
    if (before === undefined) delete process.env.UNETFLOW_WITHOUT;
    else process.env.UNETFLOW_WITHOUT = before;
  }
});
