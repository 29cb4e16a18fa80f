/** Threads in Node (src/host/threads.ts): the cores this process may use; worker threads always share memory. */
import { availableParallelism } from 'node:os';
import type { Threads } from '../threads.js';

export function nodeThreads(): Threads {
  return { cores: availableParallelism(), sharedMemory: true };
}
