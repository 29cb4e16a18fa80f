/**
 * The page's watch source (src/web/host/watch.ts) in a real browser on a folder of the
 * origin-private file system: files there at the start and files added while it runs,
 * each once it stopped growing, each once; temporary names never; a changed file again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPage } from './host-page.js';

declare const navigator: any;
declare const hosts: any;
declare const watched: { path: string; size: number }[];
declare const watch: any;

const host = hostPage();
const { skip } = host;

/** Waits until the watch has emitted `n` files (generously: a busy machine is slow). */
async function emitted(n: number): Promise<{ path: string; size: number }[]> {
  await host.page().waitForFunction((n) => watched.length >= n, n, { timeout: 60_000 });
  return host.page().evaluate(() => watched.map((w) => ({ path: w.path, size: w.size })));
}

test('a watched folder gives the files there, then those added while it runs, each once and complete; temporary names never; a changed file again', skip, async () => {
  await host.page().evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const folder = new hosts.HandleFolder(await root.getDirectoryHandle('watched', { create: true }), 'watched');
    await folder.writeAtomic('a.png', 'a');
    const g = globalThis as any;
    g.watched = [];
    g.watch = { folder, stop: new AbortController(), ready: false };
    hosts.watchHandleFolder(folder, { stableMs: 400 }, g.watch.stop.signal, { onReady: () => (g.watch.ready = true) }).subscribe({ next: (f: unknown) => g.watched.push(f) });
  });
  assert.deepEqual(await emitted(1), [{ path: 'a.png', size: 1 }]);
  await host.page().waitForFunction(() => watch.ready === true);

  // A file that grows while it is written (in place, as a microscope writes), and a temporary name beside it.
  await host.page().evaluate(async () => {
    const dir = watch.folder.handle;
    const handle = await dir.getFileHandle('b.png', { create: true });
    for (const part of ['bb', 'bbbb', 'bbbbbbbb']) {
      const w = await handle.createWritable();
      await w.write(part);
      await w.close();
    }
    await watch.folder.writeAtomic('.c.png.1.1.tmp', 'partial');
    await watch.folder.writeAtomic('c.png.part', 'partial');
    await watch.folder.writeAtomic('notes.txt', 'not an image');
  });
  assert.deepEqual(await emitted(2), [{ path: 'a.png', size: 1 }, { path: 'b.png', size: 8 }], 'b.png once, at its full size');

  await host.page().evaluate(() => watch.folder.writeAtomic('a.png', 'changed'));
  await host.page().evaluate(() => watch.folder.writeAtomic('d.png', 'dddd'));
  const all = await emitted(4);
  assert.deepEqual(all.slice(2).sort((x, y) => x.path.localeCompare(y.path)), [{ path: 'a.png', size: 7 }, { path: 'd.png', size: 4 }]);
  // A last file, seen after every earlier one was looked at again: nothing came twice meanwhile.
  await host.page().evaluate(() => watch.folder.writeAtomic('e.png', 'e'));
  const final = await emitted(5);
  assert.deepEqual(final.map((f) => f.path), ['a.png', 'b.png', ...all.slice(2).map((f) => f.path), 'e.png']);
  await host.page().evaluate(() => watch.stop.abort());
});
