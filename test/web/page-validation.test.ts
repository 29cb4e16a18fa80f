/** Pipelines checked in the page: the same messages, to the character, as `unetflow validate` prints for the same file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/files.js';
import { needsBuiltApp, openAppPage, until } from './app-page.js';

const BIN = resolve('bin/unetflow.js');
const validate = (file: string, cwd: string) => spawnSync(process.execPath, [BIN, 'validate', file], { cwd, encoding: 'utf8' });

const MISTAKES = [
  'version: 1',
  'name: mistakes',
  'source: { files: in }',
  'steps:',
  '  - load: { channels: 1 }',
  '  - treshold: { at: 0.5 }',
  '  - save: { dir: out, outputs: [mask], colour: red }',
  '',
].join('\n');

test('a pipeline file with mistakes, opened in the page, shows what unetflow validate prints for it, and the job cannot start', { ...needsBuiltApp(), timeout: 120_000 }, async () => {
  const dir = await tempDir('unetflow-page-validate-');
  await writeFile(join(dir, 'mistakes.yaml'), MISTAKES);
  const cli = validate('mistakes.yaml', dir);
  assert.equal(cli.status, 2, 'the CLI refuses the file');
  assert.match(cli.stderr, /treshold/, 'the CLI names the mistake');
  const { page, close } = await openAppPage();
  try {
    await page.setInputFiles('#pipeline-file', join(dir, 'mistakes.yaml'));
    await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'invalid', 'the pipeline to be refused');
    assert.equal(await page.locator('#validation').textContent(), cli.stderr.trimEnd());
    assert.equal(await page.locator('#start').isDisabled(), true);
    assert.equal(await page.locator('#start-why').textContent(), 'the pipeline has mistakes (above)');
  } finally {
    await close();
  }
});

test('the Quick start pipeline, offered when the page opens, is valid as unetflow validate says, with its steps', { ...needsBuiltApp(), timeout: 120_000 }, async () => {
  const cli = validate('demo.yaml', resolve('pipelines'));
  assert.equal(cli.status, 0, cli.stderr);
  const { page, close } = await openAppPage();
  try {
    assert.equal(await page.locator('#pipeline-choice').inputValue(), 'demo.yaml');
    await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the Quick start to be valid');
    assert.equal(await page.locator('#validation').textContent(), cli.stdout.trimEnd());
  } finally {
    await close();
  }
});
