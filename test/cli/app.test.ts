/** `unetflow app`: the built web app served as static files, cross-origin isolated, through the binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/files.js';
import { startAppCli } from '../web/app-cli.js';

const BIN = resolve('bin/unetflow.js');

/** A stand-in build: the command serves whatever folder holds an index.html. */
async function builtApp(): Promise<string> {
  const base = await tempDir('unetflow-app-');
  const dir = join(base, 'web');
  await mkdir(dir);
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>unetflow</title>');
  await writeFile(join(dir, 'service-worker.js'), 'self.addEventListener("fetch", () => {});');
  await mkdir(join(dir, 'ort'));
  await writeFile(join(dir, 'ort', 'ort-wasm-simd-threaded.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  await writeFile(join(dir, '.hidden'), 'secret');
  await writeFile(join(base, 'outside.txt'), 'outside');
  await symlink(join(base, 'outside.txt'), join(dir, 'link.txt'));
  return dir;
}

test('app serves the built folder on 127.0.0.1 with the headers that make the page cross-origin isolated, and wasm as application/wasm', { timeout: 60_000 }, async () => {
  const dir = await builtApp();
  const app = startAppCli(['--port', '0', '--dir', dir]);
  try {
    const url = await app.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await fetch(url);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(index.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(index.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(await index.text(), '<!doctype html><title>unetflow</title>');
    const wasm = await fetch(`${url}ort/ort-wasm-simd-threaded.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.deepEqual([...new Uint8Array(await wasm.arrayBuffer())], [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    assert.equal((await fetch(`${url}service-worker.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
  } finally {
    app.child.kill('SIGINT');
  }
  assert.equal(await app.exit, 0, app.stderr());
});

test('app answers 404 for anything outside the folder, a hidden file or a link that leads out, and 405 for anything but GET and HEAD', { timeout: 60_000 }, async () => {
  const dir = await builtApp();
  const app = startAppCli(['--port', '0', '--dir', dir]);
  try {
    const url = await app.url;
    for (const path of ['missing.js', '.hidden', 'link.txt', '..%2Foutside.txt', '%2e%2e/outside.txt', 'ort/..%5C..%5Coutside.txt']) {
      const response = await fetch(`${url}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal(await response.text(), 'not found\n', path);
    }
    assert.equal((await fetch(url, { method: 'POST', body: 'x' })).status, 405);
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String('<!doctype html><title>unetflow</title>'.length));
  } finally {
    app.child.kill('SIGTERM');
  }
  assert.equal(await app.exit, 0, app.stderr());
  assert.match(app.stderr(), /SIGTERM: the web app has stopped/);
});

test('app with no built web app ends with exit code 2 and names the command that builds it', async () => {
  const dir = await tempDir('unetflow-app-empty-');
  const r = spawnSync(process.execPath, [BIN, 'app', '--port', '0', '--dir', dir], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, `the web app is not built: ${join(dir, 'index.html')} does not exist; build it with \`npm run build:web\`\n`);
});

test('app on a port that is taken ends with exit code 2 and says so', async () => {
  const dir = await builtApp();
  const taken = createServer();
  await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
  const port = (taken.address() as { port: number }).port;
  try {
    const r = spawnSync(process.execPath, [BIN, 'app', '--port', String(port), '--dir', dir], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `app: cannot listen on 127.0.0.1:${port}: port ${port} is in use: give another with --port N (0: any free port)\n`);
  } finally {
    taken.close();
  }
});
