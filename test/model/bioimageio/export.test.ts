/**
 * The shipped EM model exported as a bioimage.io package: its description validates
 * against the spec's JSON schema (draft 2020-12) and the rules the schema cannot
 * express, check-model passes it, and running the package gives the probabilities of
 * the native (tfjs) path.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { firstValueFrom, from, toArray } from 'rxjs';
import { parse, stringify } from 'yaml';
import { load } from '../../../operators/load.js';
import { mirror } from '../../../operators/mirror.js';
import { stitch } from '../../../operators/stitch.js';
import { tile } from '../../../operators/tile.js';
import { unet } from '../../../operators/unet.js';
import { checkModelCommand } from '../../../src/cli/check-model.js';
import { exportCommand } from '../../../src/cli/export.js';
import { checkPackage } from '../../../src/model/bioimageio/check.js';
import { exportPackage } from '../../../src/model/bioimageio/export.js';
import { openPackage } from '../../../src/model/bioimageio/package.js';
import { brokenRules } from '../../../src/model/bioimageio/rules.js';
import { loadPackageTfjs } from '../../../src/model/bioimageio/tfjs.js';
import { useBackend } from '../../../src/model/engines/choice.js';
import { defaultMetadata, loadModel, saveModel } from '../../../src/model/store.js';
import { UNet } from '../../../src/model/network/unet.js';
import { needs } from '../../helpers/optional.js';

const MODEL = 'models/isbi2012-em';
const IMAGE = 'fixtures/isbi2012/test/00.png';
const SCHEMA = JSON.parse(readFileSync('../shared/data/bioimageio/bioimageio_schema_model_0.5.json', 'utf8'));
const ort = needs('onnxruntime-node');
const work = await mkdtemp(join(tmpdir(), 'unetflow-export-'));
after(() => rm(work, { recursive: true, force: true }));

let exported: Promise<string> | undefined;
/** The shipped model's package, exported once for the tests that use it. */
function shippedPackage(): Promise<string> {
  exported ??= exportPackage(MODEL, join(work, 'em'), { testImage: IMAGE, threads: 2 }).then(() => join(work, 'em'));
  return exported;
}

/** The spec's schema in ajv's draft 2020-12 mode: it uses 2020-12 keywords (`prefixItems`, `$defs`) and pydantic's `discriminator`, which strict mode refuses. */
function schemaValidator() {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('email', /^[^@\s]+@[^@\s]+$/);
  ajv.addFormat('path', () => true);
  ajv.addFormat('file-path', () => true);
  return ajv.compile(SCHEMA);
}

/** Validates a description as bioimageio.spec does: a 0.5.x format_version is read as the schema's. */
function schemaErrors(rdf: Record<string, unknown>): string[] {
  assert.match(String(rdf.format_version), /^0\.5\.\d+$/);
  const validate = schemaValidator();
  return validate({ ...rdf, format_version: SCHEMA.properties.format_version.const }) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`);
}

test('the spec schema is draft 2020-12 (prefixItems, $defs, no draft-07 definitions)', () => {
  const text = JSON.stringify(SCHEMA);
  assert.ok(text.includes('"prefixItems"') && '$defs' in SCHEMA && !('definitions' in SCHEMA));
  assert.equal(SCHEMA.properties.format_version.const, '0.5.7');
});

test("the example package's description validates, so the validator accepts a real one", () => {
  const rdf = parse(readFileSync('../shared/data/bioimageio/unet2d_nuclei_broad/bioimageio.yaml', 'utf8'));
  assert.deepEqual(schemaErrors(rdf), []);
});

test('the exported rdf.yaml validates against the schema and keeps the rules the schema cannot express', ort, async () => {
  const dir = await shippedPackage();
  const rdf = parse(await readFile(join(dir, 'rdf.yaml'), 'utf8'));
  assert.deepEqual(schemaErrors(rdf), []);
  assert.deepEqual(brokenRules(openPackage(dir)), []);
  const [input] = rdf.inputs;
  const [output] = rdf.outputs;
  for (const t of [input, output]) assert.deepEqual(t.axes.map((a: { id?: string }) => a.id), ['batch', 'channel', 'y', 'x'], 'every axis has an explicit id');
  assert.deepEqual(input.axes[2].size, { min: 188, step: 16 });
  assert.deepEqual(output.axes[3].size, { tensor_id: 'raw', axis_id: 'x', offset: -184 });
  assert.deepEqual(output.axes[1].channel_names, ['membrane', 'cell']);
  assert.deepEqual(input.preprocessing.map((p: { id: string }) => p.id), ['ensure_dtype', 'scale_linear', 'ensure_dtype']);
  assert.equal(input.preprocessing[1].kwargs.gain, 1 / 255);
  assert.equal(rdf.weights.onnx.opset_version, 17);
  assert.equal(rdf.weights.onnx.parent, undefined);
  assert.equal(rdf.weights.tensorflow_js.parent, 'onnx');
  assert.equal(rdf.license, 'MIT');
  assert.equal(rdf.cite[0].doi, '10.1007/978-3-319-24574-4_28');
  assert.match(await readFile(join(dir, 'README.md'), 'utf8'), /\n# Validation\n/);
  const onnx = await readFile(join(dir, 'weights.onnx'));
  for (const name of ['Softmax', 'batch', 'height', 'width']) assert.ok(onnx.includes(name), `the ONNX graph names ${name}`);
});

test('broken descriptions fail the schema and the rules, saying where', ort, async () => {
  const dir = await mkdtemp(join(work, 'broken-'));
  await cp(await shippedPackage(), dir, { recursive: true });
  const rdf = parse(await readFile(join(dir, 'rdf.yaml'), 'utf8'));
  delete rdf.weights.onnx.opset_version;
  assert.ok(schemaErrors(rdf).some((e) => e.includes("must have required property 'opset_version'")), schemaErrors(rdf).join('\n'));
  rdf.weights.onnx.opset_version = 17;
  delete rdf.weights.tensorflow_js.parent;
  rdf.outputs[0].axes[2].size.offset = -180;
  await writeFile(join(dir, 'rdf.yaml'), stringify(rdf));
  assert.deepEqual(schemaErrors(rdf), [], 'both breaks are beyond the schema');
  const broken = brokenRules(openPackage(dir));
  assert.ok(broken.includes('weights: exactly one entry must have no parent, found 2 (onnx, tensorflow_js)'), broken.join('\n'));
  assert.ok(broken.some((b) => /test tensor test_output\.npy \[1,2,324,324\]: axis y is 324, expected 328 \(raw\.y 508 - 180\)/.test(b)), broken.join('\n'));
});

test('check-model passes the exported package: test tensors at batch 1 and 2, three valid sizes, every sha256', ort, async () => {
  const report = await checkPackage(openPackage(await shippedPackage()), { threads: 2 });
  const text = report.lines.map((l) => `${l.ok ? 'ok' : 'FAILED'} ${l.message}`).join('\n');
  assert.ok(report.ok, text);
  assert.match(text, /test tensors, batch 2: probabilities \[2,2,324,324\] agrees/);
  for (const [size, out] of [[188, 4], [204, 20], [220, 36]]) assert.ok(text.includes(`size ${size}: output ${out}x${out}`), text);
  assert.match(text, /weights onnx: runs in bioimageio\.core, deepImageJ \(Fiji\), Icy \(JDLL\), ilastik, unetflow\n/);
});

test('the exported package, run in a pipeline, gives the probabilities of the native model folder', ort, async () => {
  const dir = await shippedPackage();
  const run = (model: string, backend: 'wasm' | 'onnxruntime') =>
    firstValueFrom(from([IMAGE]).pipe(load({ channels: 1 }), mirror({ model }), tile({ model }), unet({ model, backend, keepSeconds: 0 }), stitch(), toArray()));
  const [[native], [pkg]] = [await run(MODEL, 'wasm'), await run(dir, 'onnxruntime')];
  const a = native.probabilities!;
  const b = pkg.probabilities!;
  assert.deepEqual([b.width, b.height, b.channels], [a.width, a.height, a.channels]);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  assert.ok(worst < 1e-4, `max |difference| ${worst}`);
  console.log(`# native (tfjs wasm) vs package (ONNX Runtime): max |difference| ${worst.toExponential(2)}`);
});

test("the package's tfjs child entry gives back the model folder's weights, for fine-tuning", ort, async () => {
  const [original, back] = [await loadModel(MODEL), await loadPackageTfjs(await shippedPackage())];
  try {
    assert.deepEqual(back.model.config, original.model.config);
    for (const [name, w] of original.model.weights) assert.deepEqual(back.model.weights.get(name)!.dataSync(), w.dataSync(), name);
  } finally {
    original.model.dispose();
    back.model.dispose();
  }
});

test('`unetflow export --bioimageio x.zip` writes a zip that `unetflow check-model` passes', ort, async () => {
  const zip = join(work, 'em.zip');
  const out: string[] = [];
  const sink = { write: (s: string) => out.push(s) };
  assert.equal(await exportCommand(MODEL, { bioimageio: zip, testImage: IMAGE }, sink, sink), 0, out.join(''));
  assert.match(out.join(''), /em\.zip: bioimage\.io package of models\/isbi2012-em \(format 0\.5\.4, 7 files/);
  out.length = 0;
  assert.equal(await checkModelCommand(zip, sink, sink), 0, out.join(''));
  assert.match(out.join(''), /em\.zip: passed\n$/);
});

test('a same-padded model exports with a halo of half its overlap and percentile preprocessing, and its package checks', ort, async () => {
  await useBackend('wasm');
  const dir = await mkdtemp(join(work, 'same-'));
  const net = UNet.create({ depth: 2, baseFilters: 4, classes: 2, inputChannels: 1, padding: 'same' }, 7);
  try {
    await saveModel(dir, net, defaultMetadata(net.config, { tile: { input: 64, output: 64 }, overlap: 16, normalisation: { method: 'percentile', low: 1, high: 99 } }));
  } finally {
    net.dispose();
  }
  const metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
  metadata.card = { authors: [{ name: 'A. Tester' }], cite: [{ text: 'Ronneberger et al. 2015', doi: '10.1007/978-3-319-24574-4_28' }], license: 'CC-BY-4.0' };
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata));
  const { rdf } = await exportPackage(dir, join(work, 'same-package'), { testImage: IMAGE });
  assert.deepEqual(rdf.inputs[0].axes[2].size, { min: 20, step: 4 }, 'the smallest multiple of 4 that outlives a halo of 8 on both sides');
  assert.equal(rdf.outputs[0].axes[2].halo, 8);
  assert.deepEqual(rdf.inputs[0].preprocessing!.map((p) => p.id), ['ensure_dtype', 'scale_range', 'clip', 'ensure_dtype']);
  assert.deepEqual(schemaErrors(parse(await readFile(join(work, 'same-package', 'rdf.yaml'), 'utf8'))), []);
  const report = await checkPackage(openPackage(join(work, 'same-package')));
  assert.ok(report.ok, report.lines.map((l) => l.message).join('\n'));
});

test('export refuses a model without a card, and says it needs ONNX Runtime when it is missing', async () => {
  const dir = await mkdtemp(join(work, 'nocard-'));
  await cp(MODEL, dir, { recursive: true });
  const metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
  delete metadata.card;
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata));
  const err: string[] = [];
  const sink = { write: (s: string) => err.push(s) };
  assert.equal(await exportCommand(dir, { bioimageio: join(work, 'x'), testImage: IMAGE }, sink, sink), 2);
  assert.match(err.join(''), /metadata\.json: no model card: a bioimage\.io package needs authors, citations and a licence; add "card": \{ "authors"/);

  const before = process.env.UNETFLOW_WITHOUT;
  process.env.UNETFLOW_WITHOUT = 'onnxruntime-node';
  try {
    err.length = 0;
    assert.equal(await exportCommand(MODEL, { bioimageio: join(work, 'y'), testImage: IMAGE }, sink, sink), 2);
    assert.match(err.join(''), /export: .*needs ONNX Runtime \(onnxruntime-node: not installed \(UNETFLOW_WITHOUT\)\)/);
  } finally {
    if (before === undefined) delete process.env.UNETFLOW_WITHOUT;
    else process.env.UNETFLOW_WITHOUT = before;
  }
});
