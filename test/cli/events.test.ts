/**
 * The event contract: with --json, stdout holds only NDJSON events that match their
 * codecs (src/events.ts), `started` first; human-readable lines go to stderr. The
 * codecs, docs/events.md, the README, the --help text and the facility guide say the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { eventCodecs, eventProblem, eventTypes } from '../../src/events.js';
import { tempDir, writePng } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

async function project() {
  const dir = await tempDir('unetflow-events-');
  for (const sub of ['images', 'labels']) await mkdir(join(dir, sub));
  await writePng(join(dir, 'images', 'good.png'), 1);
  await writePng(join(dir, 'labels', 'good.png'), 2);
  await writeFile(join(dir, 'images', 'bad.png'), 'not an image');
  await writePng(join(dir, 'labels', 'bad.png'), 3);
  await writePng(join(dir, 'images', 'lonely.png'), 4); // no label: a warning
  await writeFile(
    join(dir, 'p.yaml'),
    'version: 1\nname: contract\nsource: { pairs: { images: images, labels: labels } }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image, label] }\n',
  );
  return dir;
}

test('--json: stdout is NDJSON only, every event valid, started first and stats last; stderr has the human-readable lines', async () => {
  const dir = await project();
  const r = cli(['run', join(dir, 'p.yaml'), '--json', '--set', 'steps.1.save.dir=out']);
  assert.equal(r.status, 1, r.stderr);
  const events = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
  for (const e of events) assert.equal(eventProblem(e), undefined, JSON.stringify(e));
  assert.equal(events[0].type, 'started');
  assert.equal(events.at(-1).type, 'stats');
  assert.deepEqual(
    [...new Set(events.map((e) => e.type))].sort(),
    ['file-done', 'file-failed', 'log', 'started', 'stats'],
  );
  // What was said while starting (the --set note, the unmatched image) comes after `started`, on both streams.
  const logs = events.filter((e) => e.type === 'log').map((e) => e.message);
  assert.ok(logs.some((m) => /^--set steps\.1\.save\.dir=out: a relative path/.test(m)));
  assert.ok(logs.some((m) => /lonely\.png: no label with the same name/.test(m)));
  const err = r.stderr.trimEnd().split('\n');
  assert.ok(err.some((l) => /^warning: .*lonely\.png: no label/.test(l)), r.stderr);
  assert.ok(err.some((l) => /^FAILED  .*bad\.png: not a readable image/.test(l)), r.stderr);
  assert.ok(err.some((l) => /^--set steps\.1\.save\.dir=out/.test(l)), r.stderr);
  for (const line of err) assert.ok(!line.startsWith('{'), `no JSON on stderr: ${line}`);
});

test('--json: a run that cannot start prints only a run-failed event on stdout, with its exit code', async () => {
  const dir = await project();
  const r = cli(['run', join(dir, 'p.yaml'), '--json', '--set', 'source.pairs.images=missing']);
  assert.equal(r.status, 2);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]);
  assert.equal(eventProblem(event), undefined);
  assert.deepEqual([event.type, event.exitCode], ['run-failed', 2]);
  assert.match(event.message, /source\.pairs\.images: .*missing: folder not found/);
  assert.match(r.stderr, /source\.pairs\.images: .*missing: folder not found/);
});

test('docs/events.md documents exactly the events and fields the codecs define', () => {
  const doc = readFileSync('docs/events.md', 'utf8');
  const sections = doc.split(/^### /m).slice(1);
  const documented = sections.map((s) => /^`([a-z-]+)`/.exec(s)?.[1]);
  assert.deepEqual(documented, eventTypes);
  for (const section of sections) {
    const type = /^`([a-z-]+)`/.exec(section)![1] as keyof typeof eventCodecs;
    const rows = [...section.matchAll(/^\| `([A-Za-z][A-Za-z0-9]*)` \| ([^|]+) \|/gm)].map((m) => ({ field: m[1], optional: /optional/.test(m[2]) }));
    const codec = eventCodecs[type];
    const required = Object.keys(codec.required).filter((k) => k !== 'type');
    const optional = Object.keys(codec.optional);
    assert.deepEqual(rows.filter((r) => !r.optional).map((r) => r.field).sort(), required.sort(), `${type}: required fields`);
    assert.deepEqual(rows.filter((r) => r.optional).map((r) => r.field).sort(), optional.sort(), `${type}: optional fields`);
  }
});

test('the README, --help and the facility guide state the same contract', () => {
  const readme = readFileSync('README.md', 'utf8');
  const events = readme.slice(readme.indexOf('## Events'), readme.indexOf('\n## ', readme.indexOf('## Events') + 3));
  for (const type of eventTypes) assert.ok(events.includes(`\`${type}\``), `README's Events section names ${type}`);
  assert.match(events, /only NDJSON events on stdout/);
  assert.match(events, /human-readable lines[^.]*on stderr/);
  const help = cli(['run', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(help, /--json print every event as NDJSON on stdout, one per line \(docs\/events\.md\); human-readable lines, warnings included, go to stderr/);
  const guide = readFileSync('docs/facility-guide.md', 'utf8');
  assert.match(guide, /# Events \(one JSON object per line\) to a file; human-readable lines \(warnings, failures\) on stderr go to the journal\./);
});
