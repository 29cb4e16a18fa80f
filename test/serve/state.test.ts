import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commonFolder, RunState } from '../../src/serve/state.js';
import type { RunEvent } from '../../src/events.js';

const done = (file: string, seconds = 1, extra: Partial<Extract<RunEvent, { type: 'file-done' }>> = {}): RunEvent => ({
  type: 'file-done',
  id: file,
  file,
  seconds,
  outputs: { overlay: `/out/${file}.overlay.png`, mask: `/out/${file}.mask.png` },
  ...extra,
});
const failed = (file: string): RunEvent => ({ type: 'file-failed', id: file, file, step: 'steps[0].load', message: `${file}: not a readable image`, report: `/out/${file}.error.json` });

/** A clock the test moves: file times, and so the throughput buckets, are exact. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

test('the run state follows started, backend, stats and run-failed', () => {
  const state = new RunState();
  state.apply({ type: 'started', pipeline: 'seg', file: 'p.yaml', time: '2026-11-30T00:00:00Z', watch: false, total: 3 });
  state.apply({ type: 'backend', step: 'steps[3].unet', name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', workers: 2, skipped: [] });
  assert.deepEqual(
    { status: state.run.status, pipeline: state.run.pipeline, total: state.run.total, backends: state.run.backends },
    { status: 'running', pipeline: 'seg', total: 3, backends: ['steps[3].unet: wasm (@tensorflow/tfjs-backend-wasm, 2 workers)'] },
  );
  state.apply({ type: 'stats', done: 3, failed: 0, skipped: 0, unchangedFailed: 0, seconds: 4 });
  assert.equal(state.run.status, 'finished');
  state.apply({ type: 'run-failed', message: 'model gone', exitCode: 2 });
  assert.deepEqual([state.run.status, state.run.message, state.run.exitCode], ['failed', 'model gone', 2]);
});

test('files become rows, newest first, paged, with failures filtered and counted', () => {
  const state = new RunState();
  for (let i = 0; i < 7; i++) state.apply(i % 3 === 2 ? failed(`f${i}`) : done(`f${i}`, i, { objects: i * 10 }));
  const first = state.page(0, 3);
  assert.equal(first.total, 7);
  assert.deepEqual(first.rows.map((r) => r.file), ['f6', 'f5', 'f4']);
  assert.deepEqual(state.page(6, 3).rows.map((r) => r.file), ['f0']);
  assert.deepEqual(state.page(0, 10, 'failed').rows.map((r) => [r.file, r.step, r.report]), [
    ['f5', 'steps[0].load', '/out/f5.error.json'],
    ['f2', 'steps[0].load', '/out/f2.error.json'],
  ]);
  assert.equal(state.page(0, 1).rows[0].objects, 60);
  assert.deepEqual(state.snapshot().counts, { done: 5, failed: 2, sameContent: 0, rows: 7, evicted: 0 });
});

test('a file done again replaces its row, and a failure that later succeeds is no longer counted as failed', () => {
  const state = new RunState();
  state.apply(failed('a'));
  state.apply(done('b'));
  state.apply(done('a', 2));
  assert.deepEqual(state.page(0, 10).rows.map((r) => [r.file, r.status]), [['a', 'done'], ['b', 'done']]);
  assert.deepEqual(state.snapshot().counts, { done: 2, failed: 0, sameContent: 0, rows: 2, evicted: 0 });
});

test('the table keeps at most maxRows rows, letting the oldest go, and says how many went', () => {
  const state = new RunState({ maxRows: 10 });
  for (let i = 0; i < 95; i++) state.apply(done(`f${i}`));
  const { rows, total } = state.page(0, 100);
  assert.equal(total, 10);
  assert.deepEqual(rows.map((r) => r.file), Array.from({ length: 10 }, (_, i) => `f${94 - i}`));
  assert.deepEqual(state.snapshot().counts, { done: 10, failed: 0, sameContent: 0, rows: 10, evicted: 85 });
});

test('the paths the table names are its rows\' outputs and reports, and no longer those of rows replaced or let go', () => {
  const state = new RunState({ maxRows: 2 });
  state.apply(done('a'));
  state.apply(failed('b'));
  assert.deepEqual(['/out/a.overlay.png', '/out/a.mask.png', '/out/b.error.json', '/out/b.overlay.png', '/in/a'].map((p) => state.names(p)), [true, true, true, false, false]);
  // b succeeds: its row is replaced, and its report is gone with it.
  state.apply(done('b'));
  assert.deepEqual([state.names('/out/b.error.json'), state.names('/out/b.mask.png')], [false, true]);
  // A third file lets a's row go.
  state.apply(done('c'));
  assert.deepEqual([state.names('/out/a.mask.png'), state.names('/out/c.mask.png')], [false, true]);
});

test('the gallery holds the latest overlays, newest first, at most `gallery` of them', () => {
  const state = new RunState({ gallery: 3 });
  for (let i = 0; i < 5; i++) state.apply(done(`f${i}`));
  state.apply(failed('bad'));
  assert.deepEqual(state.snapshot().gallery.map((g) => [g.file, g.output, g.path]), [
    ['f4', 'overlay', '/out/f4.overlay.png'],
    ['f3', 'overlay', '/out/f3.overlay.png'],
    ['f2', 'overlay', '/out/f2.overlay.png'],
  ]);
});

test('throughput buckets count files per interval and keep the mean and max latency', () => {
  const c = clock();
  const state = new RunState({ bucketSeconds: 10 }, c.now);
  state.apply(done('a', 1)); // t = 0
  c.advance(4);
  state.apply(done('b', 3)); // t = 4, same bucket
  c.advance(21);
  state.apply(failed('c')); // t = 25
  state.apply(done('d', 2)); // t = 25
  assert.deepEqual(state.snapshot().time, {
    origin: 1_000_000,
    width: 10,
    buckets: [
      { t: 0, done: 2, failed: 0, seconds: 4, maxSeconds: 3 },
      { t: 20, done: 1, failed: 1, seconds: 2, maxSeconds: 2 },
    ],
  });
});

test('past maxPoints buckets the series doubles its bucket width, merging pairs, so it stays bounded', () => {
  const c = clock();
  const state = new RunState({ bucketSeconds: 1, maxPoints: 8 }, c.now);
  for (let i = 0; i < 40; i++) {
    state.apply(done(`f${i}`, 1));
    c.advance(1);
  }
  const { width, buckets } = state.snapshot().time;
  // 40 s of one file a second: widths 1, 2, 4 hold 8 points for 8, 16, 32 s; then 8 s buckets.
  assert.equal(width, 8);
  assert.deepEqual(buckets.map((b) => [b.t, b.done]), [[0, 8], [8, 8], [16, 8], [24, 8], [32, 8]]);
  assert.equal(buckets.reduce((n, b) => n + b.done, 0), 40, 'no file lost in merging');
});

test('training steps are kept up to maxPoints, then every other one, the stride doubling', () => {
  const state = new RunState({ maxPoints: 10 });
  for (let step = 1; step <= 40; step++) state.apply({ type: 'train-step', step, loss: 1 / step, learningRate: 0.01, seconds: 0.1 });
  const { stride, points } = state.snapshot().train;
  // Halved at 10 points three times (after steps 10, 19 and 37): every 8th step from the first.
  assert.equal(stride, 8);
  assert.deepEqual(points.map((p) => p.step), [1, 9, 17, 25, 33]);
});

test('a ledger read back gives rows with its times, seconds and objects, and same-content entries apart', () => {
  const state = new RunState();
  state.apply({ type: 'ledger-entry', file: 'a.png', status: 'done', outputs: { mask: '/o/a.mask.png' }, time: '2026-11-30T10:00:00.000Z', seconds: 0.5, objects: 12 });
  state.apply({ type: 'ledger-entry', file: 'b.png', status: 'failed', outputs: {}, time: '2026-11-30T10:00:05.000Z', error: 'b.png: not a readable image', report: '/o/b.error.json' });
  state.apply({ type: 'ledger-entry', file: 'c.png', status: 'done', outputs: { mask: '/o/a.mask.png' }, time: '2026-11-30T10:00:06.000Z', sameAs: 'a.png' });
  const rows = state.page(0, 10).rows;
  assert.deepEqual(rows.map((r) => [r.file, r.status, r.seconds, r.objects, r.time]), [
    ['c.png', 'same-content', undefined, undefined, Date.parse('2026-11-30T10:00:06.000Z')],
    ['b.png', 'failed', undefined, undefined, Date.parse('2026-11-30T10:00:05.000Z')],
    ['a.png', 'done', 0.5, 12, Date.parse('2026-11-30T10:00:00.000Z')],
  ]);
  assert.equal(rows[1].message, 'b.png: not a readable image');
  assert.deepEqual(state.snapshot().counts, { done: 1, failed: 1, sameContent: 1, rows: 3, evicted: 0 });
});

test('the common folder of the files is the deepest one holding them all', () => {
  assert.equal(commonFolder(undefined, '/data/day1/a.png'), '/data/day1/');
  assert.equal(commonFolder('/data/day1/', '/data/day1/b.png'), '/data/day1/');
  assert.equal(commonFolder('/data/day1/', '/data/day2/c.png'), '/data/');
  assert.equal(commonFolder('/data/ab/', '/data/ac/x.png'), '/data/');
  assert.equal(commonFolder('/data/day1/', '/data/x.png'), '/data/');
  assert.equal(commonFolder('day1/', 'top.png'), '');
  assert.equal(commonFolder('', 'day1/a.png'), '');
  const state = new RunState();
  state.apply(done('/in/day1/a.png'));
  state.apply(done('/in/day2/b.png'));
  assert.equal(state.run.folder, '/in/');
});
