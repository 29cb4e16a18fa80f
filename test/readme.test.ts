/**
 * The README's code blocks, run for real. Every ```ts or ```js block names in its info
 * string the check below that runs it (```ts test=operators) or is marked as
 * deliberately partial (```ts no-run); a block with neither fails the first test.
 * Each block is written to its own folder under test/.tmp-readme-*, where `unetflow`
 * resolves to this checkout by package self-reference (package.json "exports", i.e. the
 * compiled dist/ that `npm ci` builds with the `prepare` script); the check gives it
 * the files it names, runs it with Node and asserts what the README promises.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { readImage } from '../src/io/read.js';
import { writeImage } from '../src/io/write.js';
import type { Image } from '../src/image/image.js';

const ROOT = process.cwd();
const README = join(ROOT, 'README.md');
const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);
const ISBI = '../shared/data/isbi2012/train';

export interface Block {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  lang: string;
  /** The check named by `test=NAME`, if any. */
  test?: string;
  noRun: boolean;
  code: string;
}

/** The fenced code blocks of a Markdown text in a language this test runs. */
export function runnableBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*(\S*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === open[1]);
    if (end < 0) throw new Error(`README.md:${i + 1}: code block never closed`);
    const words = open[3].trim().split(/\s+/).filter(Boolean);
    if (RUNNABLE.has(open[2])) {
      blocks.push({
        line: i + 1,
        lang: open[2],
        test: words.find((w) => w.startsWith('test='))?.slice('test='.length),
        noRun: words.includes('no-run'),
        code: lines.slice(i + 1, end).join('\n') + '\n',
      });
    }
    i = end;
  }
  return blocks;
}

/** What is wrong with the blocks' marking, against the checks that exist; empty when all is well. */
export function markingProblems(blocks: Block[], checks: readonly string[]): string[] {
  const problems: string[] = [];
  for (const b of blocks) {
    if (b.test && b.noRun) problems.push(`README.md:${b.line}: a block is either test=${b.test} or no-run, not both`);
    else if (!b.test && !b.noRun) problems.push(`README.md:${b.line}: a \`\`\`${b.lang} block neither names its check (test=NAME) nor is marked no-run`);
    else if (b.test && !checks.includes(b.test)) problems.push(`README.md:${b.line}: test=${b.test} names no check in test/readme.test.ts (there are: ${checks.join(', ')})`);
  }
  for (const name of checks) {
    const count = blocks.filter((b) => b.test === name).length;
    if (count !== 1) problems.push(`check ${name}: expected one README block with test=${name}, found ${count}`);
  }
  return problems;
}

interface Run {
  stdout: string;
  stderr: string;
}

interface Check {
  /** What the README promises for the block: the test's title. */
  promise: string;
  /** File the block is written to in its folder. @default block.ts */
  file?: string;
  /** Gives the block the files it names. */
  given(dir: string): Promise<void>;
  /** The command that runs it, in its folder. @default node --import tsx <file> */
  command?(dir: string, file: string): string[];
  /** The command logs to stderr (the unetflow command does); else stderr must stay empty. */
  logs?: boolean;
  verify(dir: string, run: Run): Promise<void>;
}

/** Two real ISBI 2012 slices, as the 8-bit grey TIFFs the block names. */
async function givenSlices(dir: string, names: string[]): Promise<void> {
  for (const [i, name] of names.entries()) {
    await writeImage(join(dir, name), await readImage(join(ROOT, `fixtures/isbi2012/test/0${i}.png`)), 'tiff');
  }
}

const pixelsOf = (image: Image): number[] => Array.from(image.data);

async function assertImage(path: string, expected: number[], what: string): Promise<void> {
  assert.ok(existsSync(path), `${what}: expected ${relative(ROOT, path)} to be written`);
  assert.deepEqual(pixelsOf(await readImage(path)), expected, `${what}: ${relative(ROOT, path)} has other pixels than expected`);
}

const checks: Record<string, Check> = {
  operators: {
    promise: 'the operators block mirrors, tiles and stitches two slices and saves them unchanged in out/',
    given: (dir) => givenSlices(dir, ['slice-01.tif', 'slice-02.tif']),
    async verify(dir) {
      for (const name of ['slice-01', 'slice-02']) {
        const input = pixelsOf(await readImage(join(dir, `${name}.tif`)));
        await assertImage(join(dir, 'out', `${name}.image.png`), input, 'operators');
      }
      assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['slice-01.image.png', 'slice-02.image.png']);
    },
  },
  'run-pipeline': {
    promise: 'the runPipeline block runs pipelines/weightmaps.yaml on ./images and ./labels and logs a file-done event per pair',
    async given(dir) {
      await mkdir(join(dir, 'pipelines'));
      await copyFile(join(ROOT, 'pipelines/weightmaps.yaml'), join(dir, 'pipelines/weightmaps.yaml'));
      for (const sub of ['image', 'label']) {
        await mkdir(join(dir, `${sub}s`));
        for (const n of ['00', '01']) await copyFile(join(ROOT, ISBI, sub, `${n}.png`), join(dir, `${sub}s`, `${n}.png`));
      }
    },
    async verify(dir, run) {
      const expected = ['00', '01'].map((n) => `${join(dir, 'images', `${n}.png`)} -> ${join(dir, 'weights', `${n}.weights.tif`)}`);
      assert.deepEqual(run.stdout.trim().split('\n').sort(), expected);
      for (const n of ['00', '01']) {
        const label = await readImage(join(dir, 'labels', `${n}.png`));
        const weights = await readImage(join(dir, 'weights', `${n}.weights.tif`));
        assert.deepEqual([weights.dtype, weights.width, weights.height], ['float32', label.width, label.height]);
        // Balanced class weights average 1, and the border term only adds: the mean is above 1.
        assert.ok(pixelsOf(weights).reduce((a, v) => a + v, 0) / weights.data.length > 1);
      }
    },
  },
  'use-module': {
    promise: 'the invert.mjs block, named by use: in a pipeline file, inverts a slice through the unetflow command',
    file: 'invert.mjs',
    async given(dir) {
      await givenSlices(dir, ['slice-01.tif']);
      const pipeline = 'version: 1\nname: invert\nuse: ./invert.mjs\nsource: { files: slice-01.tif }\nsteps:\n  - load: {}\n  - invert: {}\n  - save: { dir: out, outputs: [image] }\n';
      await writeFile(join(dir, 'invert.yaml'), pipeline);
    },
    command: () => [join(ROOT, 'bin/unetflow.js'), 'run', 'invert.yaml'],
    logs: true,
    async verify(dir, run) {
      assert.match(run.stdout, /^1 done, 0 failed/m);
      const input = pixelsOf(await readImage(join(dir, 'slice-01.tif')));
      await assertImage(join(dir, 'out', 'slice-01.image.png'), input.map((v) => 255 - v), 'use-module');
    },
  },
  'register-operator': {
    promise: 'the registerOperator block makes invert known to runPipeline, which inverts a slice into out/',
    given: (dir) => givenSlices(dir, ['slice-01.tif']),
    async verify(dir) {
      const input = pixelsOf(await readImage(join(dir, 'slice-01.tif')));
      await assertImage(join(dir, 'out', 'slice-01.image.png'), input.map((v) => 255 - v), 'register-operator');
    },
  },
};

const exec = promisify(execFile);
const blocks = runnableBlocks(await readFile(README, 'utf8'));
let tmp = '';

/** (Re)builds dist/ with the `prepare` script, as `npm ci` does, when a source is newer than it. */
async function ensureBuilt(): Promise<void> {
  const built = join(ROOT, 'dist/src/index.js');
  const sources = ['src', 'operators'];
  let newest = Math.max(...(await Promise.all(['package.json', 'tsconfig.json', 'tsconfig.build.json'].map(async (f) => (await stat(join(ROOT, f))).mtimeMs))));
  for (const dir of sources) {
    for (const f of await readdir(join(ROOT, dir), { recursive: true })) {
      if (f.endsWith('.ts')) newest = Math.max(newest, (await stat(join(ROOT, dir, f))).mtimeMs);
    }
  }
  if (existsSync(built) && (await stat(built)).mtimeMs >= newest) return;
  await exec('npm', ['run', '--silent', 'prepare'], { cwd: ROOT, timeout: 300_000 });
}

before(async () => {
  await ensureBuilt();
  tmp = await mkdtemp(join(ROOT, 'test', '.tmp-readme-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

test('every ts and js block in README.md names a check here or is marked no-run', () => {
  assert.deepEqual(markingProblems(blocks, Object.keys(checks)), []);
});

test('a block that neither names a check nor is marked no-run is reported with its line', () => {
  const text = '# x\n\n```ts test=operators\nrun();\n```\n\n```ts\nmore();\n```\n\n```ts no-run\npartial(/* ... */);\n```\n\n```sh\nnpm test\n```\n';
  const found = runnableBlocks(text);
  assert.deepEqual(found.map((b) => [b.line, b.test, b.noRun]), [[3, 'operators', false], [7, undefined, false], [11, undefined, true]]);
  assert.deepEqual(markingProblems(found, ['operators']), ['README.md:7: a ```ts block neither names its check (test=NAME) nor is marked no-run']);
  assert.match(markingProblems(found, ['operators', 'gone']).join('\n'), /check gone: expected one README block with test=gone, found 0/);
});

test("package.json's exports and types name files that the prepare build writes", async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string>; types: string };
  for (const target of [...Object.values(pkg.exports), pkg.types]) assert.ok(existsSync(join(ROOT, target)), `package.json names ${target}, which the build did not write`);
});

for (const block of blocks.filter((b) => b.test && checks[b.test])) {
  const check = checks[block.test!];
  test(`README.md:${block.line}: ${check.promise}`, async () => {
    const dir = join(tmp, block.test!);
    await mkdir(dir);
    const file = check.file ?? 'block.ts';
    await writeFile(join(dir, file), block.code);
    await check.given(dir);
    const args = check.command?.(dir, file) ?? ['--import', 'tsx', file];
    const run = await exec(process.execPath, args, { cwd: dir, timeout: 120_000 }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`README.md:${block.line} (test=${block.test}) failed to run: ${error.stderr || error.message}`, { cause: error });
    });
    if (!check.logs) assert.equal(run.stderr, '', `README.md:${block.line} (test=${block.test}) wrote to stderr`);
    await check.verify(dir, run);
  });
}

test("the README's TypeScript blocks typecheck against the built package", async () => {
  const ts = blocks.filter((b) => b.test && !['js', 'javascript', 'mjs'].includes(b.lang));
  const dir = join(tmp, 'typecheck');
  await mkdir(dir);
  for (const b of ts) await writeFile(join(dir, `${b.test}.ts`), b.code);
  const config = { extends: relative(dir, join(ROOT, 'tsconfig.json')), compilerOptions: { noEmit: true }, include: [], files: ts.map((b) => `${b.test}.ts`) };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(config));
  const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc');
  await exec(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, timeout: 180_000 }).catch((error: { stdout?: string; message: string }) => {
    const lines = Object.fromEntries(ts.map((b) => [`${b.test}.ts`, b.line]));
    const located = (error.stdout ?? error.message).replace(/(?:\S*\/)?([\w-]+\.ts)\((\d+),(\d+)\)/g, (all, f: string, l: string) => (lines[f] ? `README.md:${lines[f] + Number(l)}` : all));
    throw new Error(`README code blocks do not typecheck:\n${located}`, { cause: error });
  });
});
