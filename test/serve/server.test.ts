import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { startLiveServer, type LiveServer } from '../../src/serve/server.js';
import type { ServeEvent } from '../../src/serve/state.js';
import { tempDir, writePng } from '../helpers/files.js';

/** A request sent as written: no client-side normalisation of `..` or percent-encoding. */
function get(server: LiveServer, path: string, headers: Record<string, string> = {}, method = 'GET') {
  const url = new URL(server.url);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

async function setup(options: { token?: string; clientCapacity?: number } = {}) {
  const top = await realpath(await tempDir('unetflow-serve-'));
  const out = join(top, 'out');
  await mkdir(out);
  await writePng(join(out, 'a.overlay.png'), 1, 64);
  await writeFile(join(top, 'secret.txt'), 'secret');
  const events = new Subject<ServeEvent>();
  const server = await startLiveServer(events, { roots: [out], port: 0, ...options });
  return { top, out, events, server };
}

test('the page, its assets and uPlot are served by the package; nothing else by name', async (t) => {
  const { server } = await setup();
  t.after(() => server.close());
  const page = await get(server, '/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<script type="module" src="\/assets\/app\.js">/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  for (const [asset, type] of [['app.js', 'text/javascript'], ['style.css', 'text/css'], ['uPlot.esm.js', 'text/javascript'], ['uPlot.min.css', 'text/css']]) {
    const r = await get(server, `/assets/${asset}`);
    assert.equal(r.status, 200, asset);
    assert.match(String(r.headers['content-type']), new RegExp(type));
  }
  assert.match((await get(server, '/assets/uPlot.esm.js')).body, /uPlot\.js \(μPlot\)[\s\S]*v1\.6\.32/);
  for (const path of ['/assets/server.ts', '/assets/..%2fserver.ts', '/assets/constructor', '/nothing']) assert.equal((await get(server, path)).status, 404, path);
});

test('output files the rows name are served; other files in the folder, /../ and encoded traversal give 404', async (t) => {
  const { server, events, out } = await setup();
  t.after(() => server.close());
  events.next({ type: 'file-done', id: 'a', file: '/in/a.png', seconds: 1, outputs: { overlay: join(out, 'a.overlay.png') } });
  const page = JSON.parse((await get(server, '/api/files')).body);
  assert.deepEqual(page.rows[0].links, { overlay: '0/a.overlay.png' });
  // A file in the folder that no row names (a pipeline file, an input or another run's output kept there) is not served.
  await writePng(join(out, 'b.overlay.png'), 2, 64);
  for (const path of ['/files/0/b.overlay.png', '/thumbs/0/b.overlay.png']) assert.equal((await get(server, path)).status, 404, path);
  const file = await get(server, '/files/0/a.overlay.png');
  assert.deepEqual([file.status, file.headers['content-type']], [200, 'image/png']);
  const thumb = await get(server, '/thumbs/0/a.overlay.png');
  assert.deepEqual([thumb.status, thumb.headers['content-type']], [200, 'image/webp']);
  for (const path of ['/files/0/../secret.txt', '/files/0/../../secret.txt', '/files/../secret.txt', '/files/0/%2e%2e/secret.txt', '/files/0/..%2fsecret.txt', '/files/0/%2e%2e%2fsecret.txt', '/thumbs/0/..%2fsecret.txt', '/files/0/%2e%2e%5csecret.txt', '/../secret.txt', '/files/0/%252e%252e%252fsecret.txt']) {
    const r = await get(server, path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, /secret/, path);
  }
});

test('read-only: anything but GET and HEAD is refused', async (t) => {
  const { server } = await setup();
  t.after(() => server.close());
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await get(server, '/', {}, method);
    assert.deepEqual([r.status, r.headers.allow], [405, 'GET, HEAD'], method);
  }
});

test('on loopback, a request whose Host is another name (DNS rebinding) is refused', async (t) => {
  const { server } = await setup();
  t.after(() => server.close());
  assert.equal((await get(server, '/', { host: 'attacker.example:8080' })).status, 404);
  assert.equal((await get(server, '/', { host: 'localhost:8080' })).status, 200);
});

test('with a token, nothing is shown without it; ?token= once sets a cookie and drops it from the address; a bearer header works', async (t) => {
  const { server } = await setup({ token: 's3cret-token' });
  t.after(() => server.close());
  assert.equal((await get(server, '/')).status, 401);
  assert.equal((await get(server, '/files/0/a.overlay.png')).status, 401);
  assert.equal((await get(server, '/events')).status, 401);
  assert.equal((await get(server, '/?token=wrong')).status, 401);
  const login = await get(server, '/?token=s3cret-token&x=1');
  assert.equal(login.status, 303);
  assert.equal(login.headers.location, '/?x=1');
  const cookie = String(login.headers['set-cookie']).split(';')[0];
  assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
  assert.equal((await get(server, '/', { cookie })).status, 200);
  assert.equal((await get(server, '/', { cookie: 'unetflow_token=wrong' })).status, 401);
  assert.equal((await get(server, '/api/files', { authorization: 'Bearer s3cret-token' })).status, 200);
});

test('a page that stops reading never makes the server hold more than its queue; when it reads again it is told what it lost', async (t) => {
  const { server, events } = await setup({ clientCapacity: 64 });
  t.after(() => server.close());
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  t.after(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET /events HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
  socket.pause();
  while (server.broadcaster.size === 0) await new Promise((r) => setTimeout(r, 10));
  // 40 MB of events to a page that reads nothing: far past what the sockets hold.
  const message = 'x'.repeat(2000);
  let most = 0;
  for (let i = 0; i < 20_000; i++) {
    events.next({ type: 'log', level: 'info', message: `${i} ${message}` });
    most = Math.max(most, server.broadcaster.queues()[0].queued);
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r)); // let the server write what the socket takes
  }
  assert.ok(most <= 64, `at most the queue's capacity waited: ${most}`);
  const { dropped } = server.broadcaster.queues()[0];
  assert.ok(dropped > 10_000, `most updates were dropped for it: ${dropped}`);
  // Reading again: the last notice counts every dropped update, and a snapshot follows it.
  let text = '';
  socket.setEncoding('utf8');
  socket.resume();
  await new Promise<void>((resolve) =>
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes(`event: dropped\ndata: {"count":`) && new RegExp(`"total":${dropped}\\}\n\nevent: snapshot`).test(text)) resolve();
    }),
  );
});
