import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { makeImage, type DType, type Image } from '../../../src/image/image.js';
import { halve } from '../../../src/io/zarr/downsample.js';
import { openOmeZarr } from '../../../src/io/zarr/read.js';
import { OmeZarrWriter } from '../../../src/io/zarr/write.js';
import { tempDir } from '../../helpers/files.js';

const SCHEMAS = '../shared/data/ome-ngff-0.4/schemas';

/** The strict NGFF 0.4 image and label schemas, which `$ref` the plain ones by their `$id`. */
async function ngffValidator(): Promise<(attributes: unknown, kind: 'image' | 'label') => string[]> {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  for (const name of ['image', 'label', 'strict_image', 'strict_label']) ajv.addSchema(JSON.parse(await readFile(join(SCHEMAS, `${name}.schema`), 'utf8')));
  return (attributes, kind) => {
    const ids = kind === 'image' ? ['strict_image'] : ['strict_image', 'strict_label'];
    return ids.flatMap((id) => {
      const validate = ajv.getSchema(`https://ngff.openmicroscopy.org/0.4/schemas/${id}.schema`)!;
      return validate(attributes) ? [] : [`${id}: ${ajv.errorsText(validate.errors)}`];
    });
  };
}

function pattern(width: number, height: number, channels: number, dtype: DType, seed: number): Image {
  const image = makeImage(width, height, channels, dtype);
  for (let i = 0; i < image.data.length; i++) image.data[i] = dtype === 'float32' ? Math.sin(i * 0.37 + seed) : (i * 31 + seed * 7) % (dtype === 'uint8' ? 251 : 65521);
  return image;
}

test('an image written as OME-Zarr validates against the strict NGFF 0.4 schema and reads back exactly, at every level', async () => {
  const validate = await ngffValidator();
  for (const [dtype, channels, planes] of [['uint8', 1, 1], ['uint16', 1, 3], ['float32', 2, 2]] as const) {
    const target = join(await tempDir(), 'out.ome.zarr');
    const spec = { name: 'probabilities', width: 300, height: 170, dtype, channels, planes, pixelSize: { y: 0.25, x: 0.5 }, kind: 'image', chunk: 64 } as const;
    const writer = await OmeZarrWriter.create(target, spec);
    const written = Array.from({ length: planes }, (_, z) => pattern(300, 170, channels, dtype, z));
    for (const [z, plane] of written.entries()) await writer.writePlane(z, plane);
    assert.ok(!existsSync(target), 'nothing under the final name before commit');
    await writer.commit();

    const attributes = JSON.parse(await readFile(join(target, '.zattrs'), 'utf8'));
    assert.deepEqual(validate(attributes, 'image'), []);
    const image = await openOmeZarr(target);
    assert.deepEqual(image.levels.map((l) => [l.shape.at(-1), l.shape.at(-2)]), [[300, 170], [150, 85], [75, 43], [38, 22]]);
    assert.deepEqual(image.multiscales.axes, [...(channels > 1 ? ['c'] : []), ...(planes > 1 ? ['z'] : []), 'y', 'x']);
    assert.deepEqual(image.pixelSize(0), { y: 0.25, x: 0.5 });
    assert.deepEqual(image.pixelSize(1), { y: 0.5, x: 1 });
    for (const [z, plane] of written.entries()) {
      let expected = plane;
      for (let level = 0; level < image.levels.length; level++) {
        if (level > 0) expected = halve(expected, 'mean');
        const read = await image.readPlane(level, { t: 0, z });
        assert.deepEqual(read, expected, `${dtype}, plane ${z}, level ${level}`);
      }
    }
    assert.deepEqual((await readdir(join(target, '..'))).filter((n) => n !== 'out.ome.zarr'), [], 'no temporary folder left');
  }
});

test('a label image is written with nearest downsampling and image-label metadata that validate', async () => {
  const validate = await ngffValidator();
  const target = join(await tempDir(), 'cells');
  const labels = makeImage(100, 90, 1, 'uint16');
  for (let i = 0; i < labels.data.length; i++) labels.data[i] = (Math.floor((i % 100) / 10) + 3 * Math.floor(i / 100 / 10)) % 7;
  const writer = await OmeZarrWriter.create(target, { name: 'instances', width: 100, height: 90, dtype: 'uint16', kind: 'label', source: '../../', chunk: 32 });
  await writer.writePlane(0, labels);
  await writer.commit();
  const attributes = JSON.parse(await readFile(join(target, '.zattrs'), 'utf8'));
  assert.deepEqual(validate(attributes, 'label'), []);
  assert.deepEqual(attributes['image-label'].source, { image: '../../' });
  assert.equal(attributes.multiscales[0].type, 'nearest');
  const image = await openOmeZarr(target);
  const coarse = await image.readPlane(1, { t: 0, z: 0 });
  assert.deepEqual(coarse, halve(labels, 'nearest'));
  assert.ok([...coarse.data].every((v) => v < 7), 'no value that was not a label');
});

test('a writer that is aborted, or committed with a plane missing, leaves nothing under the final name', async () => {
  const dir = await tempDir();
  const spec = { name: 'mask', width: 20, height: 20, dtype: 'uint8', planes: 2, kind: 'label' } as const;
  const aborted = await OmeZarrWriter.create(join(dir, 'a.ome.zarr'), spec);
  await aborted.writePlane(0, pattern(20, 20, 1, 'uint8', 0));
  await aborted.abort();
  const incomplete = await OmeZarrWriter.create(join(dir, 'b.ome.zarr'), spec);
  await incomplete.writePlane(1, pattern(20, 20, 1, 'uint8', 0));
  await assert.rejects(incomplete.commit(), { message: `${join(dir, 'b.ome.zarr')}: plane(s) 0 were not written: the image is incomplete` });
  await incomplete.abort();
  assert.deepEqual(await readdir(dir), []);
  await assert.rejects(incomplete.writePlane(0, pattern(20, 10, 1, 'uint8', 0)), { message: 'plane 0 is 20 x 10 x 1 uint8: expected 20 x 20 x 1 uint8' });
});

test('committing over an earlier image replaces it whole', async () => {
  const target = join(await tempDir(), 'x.ome.zarr');
  for (const seed of [1, 2]) {
    const writer = await OmeZarrWriter.create(target, { name: 'x', width: 40, height: 30, dtype: 'uint8', kind: 'image' });
    await writer.writePlane(0, pattern(40, 30, 1, 'uint8', seed));
    await writer.commit();
  }
  assert.deepEqual(await (await openOmeZarr(target)).readPlane(0, { t: 0, z: 0 }), pattern(40, 30, 1, 'uint8', 2));
  assert.deepEqual(await readdir(join(target, '..')), ['x.ome.zarr']);
});

const PYTHON = '/usr/bin/python3';
/** Why zarr-python, a second reader independent of zarrita, cannot run here; false where it can. */
function zarrPythonSkip(): string | false {
  const probe = spawnSync(PYTHON, ['-c', 'import zarr'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} is not installed`;
  return probe.status === 0 ? false : "zarr-python is not installed (Debian's python3-zarr; .ci/services installs it)";
}

test('what the writer wrote reads the same through zarr-python', { skip: zarrPythonSkip() }, async () => {
  const target = join(await tempDir(), 'two.ome.zarr');
  const writer = await OmeZarrWriter.create(target, { name: 'p', width: 40, height: 30, dtype: 'float32', channels: 2, planes: 2, kind: 'image', chunk: 16 });
  const planes = [pattern(40, 30, 2, 'float32', 0), pattern(40, 30, 2, 'float32', 1)];
  for (const [z, plane] of planes.entries()) await writer.writePlane(z, plane);
  await writer.commit();
  const script =
    'import json, sys, zarr\n' +
    'g = zarr.open_group(sys.argv[1], mode="r")\n' +
    'a = g["0"]\n' +
    'print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype), "levels": sorted(k for k in g.array_keys()), "values": a[:].astype(float).ravel().tolist()}))\n';
  const run = spawnSync(PYTHON, ['-c', script, target], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const read = JSON.parse(run.stdout) as { shape: number[]; dtype: string; levels: string[]; values: number[] };
  assert.deepEqual(read.shape, [2, 2, 30, 40]);
  assert.equal(read.dtype, 'float32');
  assert.deepEqual(read.levels, ['0', '1', '2']);
  // (c, z, y, x) in C order, from planes interleaved (y, x, c).
  const expected: number[] = [];
  for (let c = 0; c < 2; c++) for (const plane of planes) for (let i = 0; i < 40 * 30; i++) expected.push(plane.data[i * 2 + c]);
  assert.deepEqual(read.values, expected);
});
