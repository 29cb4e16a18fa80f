/** Outputs on disk (src/host/outputs.ts): sharp's encoder, src/io/atomic.ts's writes. */
import { rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/atomic.js';
import { encodeImage } from '../../io/write.js';
import type { OutputWriter } from '../outputs.js';

export const nodeOutputs: OutputWriter = {
  encode: encodeImage,
  write: writeFileAtomic,
  remove: (path) => rm(path, { force: true }),
};
