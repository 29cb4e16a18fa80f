/**
 * An input that disappears while it is read (deleted, moved away, an unmounted share)
 * has not failed: there is nothing to blame. It is not recorded, no error report is
 * written, what it had written of its outputs is removed, and a watch run takes it
 * again when it is back (the watcher reports it anew).
 */
import { lstat, rm } from 'node:fs/promises';
import type { SampleError } from '../errors.js';
import type { SourceRef } from '../sample.js';

/** Whether `failures` come from the input (or its label) having gone while it was read. */
export async function inputVanished(ref: SourceRef, failures: readonly SampleError[]): Promise<boolean> {
  const paths = [ref.path, ...(ref.labelPath ? [ref.labelPath] : [])];
  for (const path of paths) if (await gone(path)) return true;
  // Gone and back already (put back unchanged): the failure itself says it was missing.
  return failures.some((failure) => causes(failure).some((e) => missing(e, paths)));
}

/** What the run says of such a file. */
export function vanishedMessage(ref: SourceRef, failure: SampleError | undefined): string {
  // The step's own words would mislead ("corrupt or truncated"): the file was simply not there.
  return `${ref.path}: vanished while it was being read${failure?.step ? ` (at ${failure.step})` : ''}: not recorded, and taken again if it comes back`;
}

/** Removes the outputs an attempt wrote before its input went: a part of a stack is no result. */
export async function removeWritten(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((path) => rm(path, { force: true })));
}

async function gone(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e && chain.length < 8; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

function missing(error: unknown, paths: readonly string[]): boolean {
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' && e.path !== undefined && paths.includes(e.path)) return true;
  // sharp's own words when the file it was given is not there.
  return typeof e?.message === 'string' && /^Input file is missing/.test(e.message);
}
