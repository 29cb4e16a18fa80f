/** Every example in pipelines/ is a pipeline that validates as shipped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline } from '../../src/pipeline/run.js';

const files = readdirSync('pipelines').filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

test('the example pipelines include the documented ones', () => {
  const documented = ['demo.yaml', 'segment-watch.yaml', 'train-isbi2012.yaml', 'evaluate-isbi2012.yaml', 'weightmaps.yaml', 'augment-preview.yaml', 'finetune.yaml'];
  for (const name of documented) assert.ok(files.includes(name), name);
});

for (const file of files) {
  test(`pipelines/${file} validates`, async () => {
    const plan = await loadPipeline(join('pipelines', file));
    assert.ok(plan.steps.length > 0);
    assert.equal(plan.steps[0].name, 'load');
  });
}
