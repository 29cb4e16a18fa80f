import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalJson, jobId, pipelineHash } from '../../src/queue/job-id.js';
import type { PipelineDefinition } from '../../src/pipeline/definition.js';

const base = {
  version: 1,
  name: 'segment',
  source: { files: 'in' },
  steps: [{ load: {} }, { threshold: { value: 0.5 } }, { save: { dir: 'out', outputs: ['mask'] } }],
} as unknown as PipelineDefinition;

test('canonical JSON sorts keys at every level and keeps array order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
});

test('the pipeline hash is the sha256 of the canonical JSON of what decides the outputs', () => {
  const expected = createHash('sha256').update('{"name":"segment","steps":[{"load":{}},{"threshold":{"value":0.5}},{"save":{"dir":"out","outputs":["mask"]}}],"version":1}').digest('hex');
  assert.equal(pipelineHash(base), expected);
});

test('the same pipeline written in another key order, or on a machine with its own source folder, queue and concurrency, hashes alike', () => {
  const other = { concurrency: 8, steps: base.steps, queue: { url: 'redis://h/0' }, source: { files: '/mnt/lab/in' }, name: 'segment', version: 1, description: 'x' } as unknown as PipelineDefinition;
  assert.equal(pipelineHash(other), pipelineHash(base));
});

test('an edited step, seed or on-error gives another hash', () => {
  const edits = [
    { ...base, steps: [{ load: {} }, { threshold: { value: 0.6 } }, { save: { dir: 'out', outputs: ['mask'] } }] },
    { ...base, seed: 3 },
    { ...base, 'on-error': 'stop' },
  ] as unknown as PipelineDefinition[];
  for (const edited of edits) assert.notEqual(pipelineHash(edited), pipelineHash(base));
});

test('a job id depends on both the pipeline and the content, and is hex', () => {
  const a = jobId('p1', 'c1');
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(a, jobId('p1', 'c1'));
  assert.notEqual(a, jobId('p2', 'c1'));
  assert.notEqual(a, jobId('p1', 'c2'));
  assert.equal(a, createHash('sha256').update('p1\nc1').digest('hex'));
});
