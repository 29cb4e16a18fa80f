/** What validate and run start-up find before any file is taken. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPipeline } from '../../src/pipeline/run.js';
import { PipelineError } from '../../src/pipeline/pipeline-error.js';
import { tempDir } from '../helpers/files.js';

async function problems(dir: string, yaml: string, set: string[] = []): Promise<string[]> {
  await writeFile(join(dir, 'p.yaml'), yaml);
  try {
    await loadPipeline(join(dir, 'p.yaml'), { set });
    return [];
  } catch (error) {
    assert.ok(error instanceof PipelineError, String(error));
    return error.message.split('\n').map((l) => l.slice(join(dir, 'p.yaml').length + 1));
  }
}

const pipeline = (source: string, save = 'out') => `version: 1\nname: c\nsource: ${source}\nsteps:\n  - load: {}\n  - save: { dir: ${save}, outputs: [image] }\n`;

test('a missing source folder is reported at its line', async () => {
  const dir = await tempDir();
  assert.deepEqual(await problems(dir, pipeline('{ files: nowhere }')), [`3:11 source.files: ${join(dir, 'nowhere')}: folder not found`]);
  assert.deepEqual(await problems(dir, pipeline('{ pairs: { images: im, labels: lb } }')), [
    `3:20 source.pairs.images: ${join(dir, 'im')}: folder not found`,
    `3:32 source.pairs.labels: ${join(dir, 'lb')}: folder not found`,
  ]);
});

test('an output folder that cannot be created is reported at save.dir', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'afile'), 'x');
  assert.deepEqual(await problems(dir, pipeline('{ files: in }', 'afile/out')), [
    `6:13 steps[1].save.dir: ${join(dir, 'afile', 'out')} cannot be created: ${join(dir, 'afile')} is a file, not a folder`,
  ]);
  assert.deepEqual(await problems(dir, pipeline('{ files: in }', 'afile')), [`6:13 steps[1].save.dir: ${join(dir, 'afile')} is a file, not a folder`]);
});

test('outputs written where the source would take them in again are refused', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  const [same] = await problems(dir, pipeline('{ watch: in }', 'in'));
  assert.match(same, /^6:13 steps\[1\]\.save\.dir: the output folder .*in is the folder the source watches .*: outputs would be taken in as new inputs/);
  const [inside] = await problems(dir, pipeline('{ watch: { dir: in, recursive: true } }', 'in/out'));
  assert.match(inside, /is inside the folder the source watches/);
  assert.match((await problems(dir, pipeline('{ files: in }', 'in')))[0], /is the folder the source reads/);
  // A subfolder of a folder watched without recursion is never listed.
  assert.deepEqual(await problems(dir, pipeline('{ watch: in }', 'in/out')), []);
});

test('a watch folder that does not exist yet is a note, not a problem', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'p.yaml'), pipeline('{ watch: later }'));
  const plan = await loadPipeline(join(dir, 'p.yaml'));
  assert.deepEqual(plan.notes, [{ message: `${join(dir, 'later')} does not exist yet: the run waits for it to appear`, validateOnly: true }]);
});

test('a relative path given with --set is said to resolve against the pipeline file, naming the result', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'p.yaml'), pipeline('{ files: in }'));
  const plan = await loadPipeline(join(dir, 'p.yaml'), { set: ['steps.1.save.dir=elsewhere', 'seed=3'] });
  assert.deepEqual(plan.notes, [{ message: `--set steps.1.save.dir=elsewhere: a relative path, resolved against the pipeline file's folder: ${join(dir, 'elsewhere')}` }]);
});
