import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { readModelJson } from '../../../src/host/model-files.js';
import { ModelFolder } from '../../../src/host/node/model-files.js';
import { nodeThreads } from '../../../src/host/node/threads.js';
import { availableParallelism } from 'node:os';

test('a model folder gives its files by name, and says which is missing', async () => {
  const files = new ModelFolder('models/isbi2012-em');
  assert.deepEqual(await files.read('model.json'), new Uint8Array(await readFile('models/isbi2012-em/model.json')));
  const metadata = (await readModelJson(files, 'metadata.json')) as { architecture: { classes: number } };
  assert.equal(metadata.architecture.classes, 2);
  await assert.rejects(files.read('nothing.bin'), /models\/isbi2012-em\/nothing\.bin: file not found/);
  await assert.rejects(files.read('../isbi2012-em/model.json'), /not the name of a file in the model folder/);
});

test('Node threads are the cores this process may use, sharing memory', () => {
  assert.deepEqual(nodeThreads(), { cores: availableParallelism(), sharedMemory: true });
});
