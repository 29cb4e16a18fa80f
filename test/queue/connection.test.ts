import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueUrl } from '../../src/queue/connection.js';

test('a redis:// URL gives host, port and database, and no TLS', () => {
  const c = parseQueueUrl('redis://db.lab.example:6380/3', {});
  assert.deepEqual(c.options, { host: 'db.lab.example', port: 6380, db: 3, maxRetriesPerRequest: null });
  assert.equal(c.display, 'redis://db.lab.example:6380/3');
});

test('defaults: port 6379, database 0', () => {
  const c = parseQueueUrl('redis://localhost', {});
  assert.equal(c.options.port, 6379);
  assert.equal(c.options.db, 0);
});

test('rediss:// turns TLS on, checked against the host name', () => {
  const c = parseQueueUrl('rediss://queue.lab.example:6380/0', {});
  assert.deepEqual(c.options.tls, { servername: 'queue.lab.example' });
  assert.equal(c.display, 'rediss://queue.lab.example:6380/0');
});

test('a password in the URL is used and never shown', () => {
  const c = parseQueueUrl('redis://:s3cr%40t@10.0.0.5:6379/1', {});
  assert.equal(c.options.password, 's3cr@t');
  assert.equal(c.display, 'redis://:***@10.0.0.5:6379/1');
  assert.ok(!c.display.includes('s3cr'));
});

test('a user and password (Redis ACL) are used and only the user is shown', () => {
  const c = parseQueueUrl('rediss://unetflow:hunter2@h:6379/0', {});
  assert.equal(c.options.username, 'unetflow');
  assert.equal(c.options.password, 'hunter2');
  assert.equal(c.display, 'rediss://unetflow:***@h:6379/0');
});

test('UNETFLOW_REDIS_PASSWORD gives the password when the URL has none, and is never shown', () => {
  const c = parseQueueUrl('redis://h:6379/0', { UNETFLOW_REDIS_PASSWORD: 'from-env' });
  assert.equal(c.options.password, 'from-env');
  assert.equal(c.display, 'redis://:***@h:6379/0');
  assert.equal(c.redact('WRONGPASS for from-env'), 'WRONGPASS for ***');
});

test('redact scrubs the password from a client error message, raw or inside a URL', () => {
  const c = parseQueueUrl('redis://:p%25ss@h:6379/0', {});
  assert.equal(c.redact('connect failed to redis://:p%25ss@h:6379/0 (password p%ss)'), 'connect failed to redis://:***@h:6379/0 (password ***)');
});

test('a URL that is not redis:// or rediss:// is a configuration error (exit 2) that does not repeat the password', () => {
  for (const url of ['http://:pw@h/0', 'localhost:6379', 'redis://h:6379/x']) {
    assert.throws(() => parseQueueUrl(url, {}), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 2, url);
      assert.ok(!e.message.includes('pw@'), e.message);
      return true;
    });
  }
});
