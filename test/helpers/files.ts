/** Temporary folders of small image files for pipeline tests. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { encodeImage } from '../../src/io/write.js';
import type { RunEvent } from '../../src/events.js';
import { randomImage } from './images.js';

export async function tempDir(prefix = 'unetflow-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function pngBytes(seed: number, size = 24): Promise<Buffer> {
  return encodeImage(randomImage(size, size, 1, 'uint8', seed), 'png');
}

export async function writePng(path: string, seed: number, size = 24): Promise<void> {
  await writeFile(path, await pngBytes(seed, size));
}

export function collect(events: Observable<RunEvent>): Promise<RunEvent[]> {
  return lastValueFrom(events.pipe(toArray()));
}

export function ofType<T extends RunEvent['type']>(events: RunEvent[], type: T): Extract<RunEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}
