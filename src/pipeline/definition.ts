/**
 * The pipeline file's top level, as an io-ts codec (the single source of truth for
 * its type). Steps are checked one by one against the operator registry.
 */
import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt, oneKeyOf, oneOf, refine, stringOr, closedObject } from '../codec/building-blocks.js';

const NonEmptyString = refine(t.string, (s) => s.length > 0, 'a non-empty string');

/** `files: DIR`, `files: DIR/*.tif`, `files: FILE`, or `files: { dir, pattern, recursive }`. */
export const FilesSource = stringOr(
  closedObject('files source', { dir: NonEmptyString }, { pattern: NonEmptyString, recursive: t.boolean }),
  'a folder or glob, or { dir, pattern, recursive }',
);

export const PairsSource = closedObject(
  'pairs source',
  { images: NonEmptyString, labels: NonEmptyString },
  { pattern: NonEmptyString },
);

export const WatchSource = stringOr(
  closedObject(
    'watch source',
    { dir: NonEmptyString },
    {
      /** Only files matching this glob (relative to dir). @default image files */
      pattern: NonEmptyString,
      /** Watch subfolders too. @default false */
      recursive: t.boolean,
      /** A file is taken once its size has not changed for this long, ms. @default 1000 */
      stableMs: PositiveInt,
      /** Where the ledger lives. @default `<first save dir>/.unetflow-ledger.jsonl` */
      ledger: NonEmptyString,
      /** Poll instead of using file-system events (network shares). @default false */
      poll: t.boolean,
    },
  ),
  'a folder, or { dir, pattern, recursive, stableMs, ledger, poll }',
);

/**
 * Scale-out through BullMQ on Redis (docs/scaling-out.md): `unetflow run` then enqueues
 * the source's files and `unetflow worker` processes them. The timings default to BullMQ's.
 */
export const QueueSection = stringOr(
  closedObject(
    'queue section',
    {},
    {
      /** `redis://[user:password@]host:port/db`, or `rediss://` for TLS. @default --queue's */
      url: NonEmptyString,
      /** How long a worker's hold on a job lasts without being renewed, ms. @default 30000 (BullMQ's lockDuration) */
      lockMs: PositiveInt,
      /** How often workers look for jobs whose worker died, ms. @default 30000 (BullMQ's stalledInterval) */
      stalledMs: PositiveInt,
      /** How many times a job may be recovered from a dead worker before it fails. @default 1 (BullMQ's maxStalledCount) */
      maxStalled: PositiveInt,
      /** Tries of a job whose failure is transient (I/O, network). @default 5 */
      attempts: PositiveInt,
      /** First wait before a retry, doubled each time, ms. @default 1000 */
      backoffMs: PositiveInt,
    },
  ),
  'a redis:// or rediss:// URL, or { url, lockMs, stalledMs, maxStalled, attempts, backoffMs }',
);
export type QueueSection = t.TypeOf<typeof QueueSection>;

export const SourceDefinition = oneKeyOf('source', { files: FilesSource, pairs: PairsSource, watch: WatchSource });
export type SourceDefinition = t.TypeOf<typeof SourceDefinition>;

export const PipelineDefinition = closedObject(
  'pipeline',
  {
    version: refine(t.number, (v) => v === 1, 'version 1'),
    name: NonEmptyString,
    source: SourceDefinition,
    steps: refine(t.array(t.unknown), (a) => a.length > 0, 'a non-empty list of steps'),
  },
  {
    description: t.string,
    /** Seed of every random draw in the run. @default 0 */
    seed: NonNegativeInt,
    /** `skip`: report a failed file and go on; `stop`: end the run at the first failure. @default 'skip' */
    'on-error': oneOf(['skip', 'stop']),
    /** Files processed at once. @default 2 */
    concurrency: PositiveInt,
    /** Passes over a files or pairs source (training); random steps draw anew each pass. @default 1 */
    epochs: PositiveInt,
    /** Modules of custom operators, relative to the pipeline file. */
    use: t.union([NonEmptyString, t.array(NonEmptyString)]),
    /** Spread the files over workers through Redis (docs/scaling-out.md); the same as --queue. */
    queue: QueueSection,
  },
);
export type PipelineDefinition = t.TypeOf<typeof PipelineDefinition>;
