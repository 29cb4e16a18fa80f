import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPipeline } from '../../src/pipeline/run.js';
import { PipelineError } from '../../src/pipeline/pipeline-error.js';
import { parsePipelineText } from '../../src/pipeline/document.js';
import { compile } from '../../src/pipeline/compile.js';
import { defaultRegistry } from '../../src/pipeline/builtins.js';

async function problemsOf(text: string, options: { set?: string[]; env?: Record<string, string> } = {}): Promise<string[]> {
  const read = parsePipelineText(text, 'p.yaml', options);
  if (!read.document) return read.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
  const { problems } = await compile(read.document, defaultRegistry, {}, '/tmp');
  const { formatPath } = await import('../../src/codec/report.js');
  return [...read.problems, ...problems].map((p) => `${p.line ?? '-'}:${p.column ?? '-'} ${formatPath(p.path)}: ${p.message}`);
}

const good = `version: 1
name: t
source: { files: in }
steps:
  - load: {}
  - mirror: { margin: 4 }
  - save: { dir: out, outputs: [image] }
`;

test('a valid pipeline has no problems', async () => {
  assert.deepEqual(await problemsOf(good), []);
});

test('every problem of a file is reported at once, each with line, column and step path', async () => {
  const text = `version: 1
name: t
sed: 3
source: { files: { dir: in, recursiv: true } }
steps:
  - load: { chanels: 1 }
  - mirorr: { margin: 3 }
  - mirror: { margin: -2 }
  - save: { dir: out, outputs: [mask, probs] }
`;
  assert.deepEqual(await problemsOf(text), [
    "3:1 sed: unknown key 'sed' — did you mean 'seed'?",
    "4:29 source.files.recursiv: unknown key 'recursiv' — did you mean 'recursive'?",
    "6:13 steps[0].load.chanels: unknown key 'chanels' — did you mean 'channels'?",
    "7:5 steps[1].mirorr: unknown operator 'mirorr' — did you mean 'mirror'?",
    '8:15 steps[2].mirror.margin: expected a non-negative integer, got -2',
    `9:39 steps[3].save.outputs[1]: expected 'image' | 'label' | 'weights' | 'probabilities' | 'mask' | 'instances' | 'overlay' | 'measurements', got "probs"`,
  ]);
});

test('rules that span fields are reported at the step', async () => {
  const text = good.replace('mirror: { margin: 4 }', 'mirror: { margin: 4, input: 572, output: 388 }');
  assert.deepEqual(await problemsOf(text), ['6:5 steps[1].mirror: give exactly one of margin, margins, or a tile geometry (model, input + output, or size)']);
});

test('the first step must be load, and a step is one operator', async () => {
  const text = good.replace('  - load: {}\n', '  - { load: {}, mirror: {} }\n');
  const problems = await problemsOf(text);
  assert.match(problems[0], /^5:5 steps\[0\]: expected one operator with its parameters/);
  const noLoad = await problemsOf(good.replace('  - load: {}\n', ''));
  assert.match(noLoad[0], /steps\[0\]\.mirror: the first step must be 'load'/);
});

test('missing required fields are named', async () => {
  const problems = await problemsOf('version: 2\nname: t\nsteps: []\n');
  assert.deepEqual(problems, [
    '1:1 version: expected version 1, got 2',
    '1:1 source: expected one of files, pairs, watch, got nothing',
    '3:1 steps: expected a non-empty list of steps, got []',
  ]);
});

test('${NAME} is replaced from the environment and a missing variable is an error', async () => {
  const text = good.replace('files: in', 'files: "${IMAGES}/raw"').replace('dir: out', 'dir: "${OUT}"');
  const read = parsePipelineText(text, 'p.yaml', { env: { IMAGES: '/data', OUT: 'results' } });
  assert.deepEqual(read.problems, []);
  const value = read.document!.value as { source: { files: string }; steps: { save?: { dir: string } }[] };
  assert.equal(value.source.files, '/data/raw');
  assert.equal(value.steps[2].save!.dir, 'results');
  assert.deepEqual(await problemsOf(text, { env: { IMAGES: '/data' } }), ['7:18 steps[2].save.dir: environment variable OUT is not set (used as ${OUT})']);
});

test('--set overrides any field, reads the value as YAML, and refuses paths that do not exist', async () => {
  const read = parsePipelineText(good, 'p.yaml', { set: ['steps.1.mirror.margin=10', 'seed=3', 'source.files=elsewhere'] });
  const value = read.document!.value as { seed: number; source: { files: string }; steps: { mirror?: { margin: number } }[] };
  assert.equal(value.steps[1].mirror!.margin, 10);
  assert.equal(value.seed, 3);
  assert.equal(value.source.files, 'elsewhere');
  assert.deepEqual(await problemsOf(good, { set: ['steps.1.mirror.margin=-1'] }), ['-:- steps[1].mirror.margin: expected a non-negative integer, got -1']);
  assert.match((await problemsOf(good, { set: ['stepz.1.x=1'] }))[0], /^-:- : --set stepz\.1\.x=1: stepz\.1 is not a map or list in the pipeline/);
  assert.match((await problemsOf(good, { set: ['nonsense'] }))[0], /--set nonsense: expected path=value/);
});

test('sources are checked as the one kind the user wrote', async () => {
  const withSource = (s: string) => problemsOf(good.replace('source: { files: in }', `source: ${s}`));
  assert.deepEqual(await withSource('{ fils: in }'), ["3:11 source.fils: unknown key 'fils' — did you mean 'files'?"]);
  assert.deepEqual(await withSource('{ watch: { dir: in, stable: 5 } }'), ["3:29 source.watch.stable: unknown key 'stable' — did you mean 'stableMs'?"]);
  assert.deepEqual(await withSource('{ files: in, watch: in }'), ['3:1 source: only one of files, watch can be given']);
  assert.deepEqual(await withSource('{ pairs: { images: a } }'), ['3:11 source.pairs.labels: expected a non-empty string, got nothing']);
});

test('a YAML syntax error is reported once, at its place', async () => {
  const problems = await problemsOf('version: 1\nname: [unclosed\nsteps: []\n');
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^\d+:\d+ YAML syntax: /);
});

test('loadPipeline throws a PipelineError whose message lists file:line:column problems', async () => {
  await assert.rejects(loadPipeline('test/pipeline/does-not-exist.yaml'), (e: unknown) => e instanceof PipelineError && /does-not-exist\.yaml file not found/.test(e.message));
  await assert.rejects(loadPipeline({ version: 1, name: 'x', source: { files: 'in' }, steps: [{ load: { grey: 'yes' } }] }), /<inline pipeline> steps\[0\]\.load\.grey: expected boolean, got "yes"/);
});
