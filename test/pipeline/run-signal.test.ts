import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { runPipeline } from '../../src/pipeline/run.js';
import { ofType, tempDir, writePng } from '../helpers/files.js';

test('a watch run whose stop signal came while it was still starting ends without taking a file, instead of watching for ever', { timeout: 30_000 }, async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  const stop = new AbortController();
  // The command line aborts on Ctrl-C from the moment it starts, before the run subscribes.
  stop.abort();
  const definition = { version: 1, name: 'w', source: { watch: { dir: 'in', stableMs: 50 } }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['image'] } }] };
  const events = await lastValueFrom(runPipeline(definition, { baseDir: dir, signal: stop.signal }).pipe(toArray()));
  assert.deepEqual(ofType(events, 'stats').map((s) => [s.done, s.failed]), [[0, 0]]);
  assert.ok(!(await readdir(join(dir, 'out')).catch((): string[] => [])).includes('a.image.png'));
});
