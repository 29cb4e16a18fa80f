/**
 * A ledger kept in a file on disk (src/host/ledger-store.ts): appends flushed with
 * fsync before they count, replacements written atomically; a FIFO or device named as
 * the ledger is refused, never opened for reading.
 */
import { open } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/atomic.js';
import { NotAnInputError, openRegular } from '../../io/input-kind.js';
import { ConfigError } from '../../errors.js';
import type { LedgerStore } from '../ledger-store.js';

export class FileLedgerStore implements LedgerStore {
  constructor(readonly name: string) {}

  async read(): Promise<Uint8Array> {
    let opened;
    try {
      opened = await openRegular(this.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0);
      if (error instanceof NotAnInputError) throw new ConfigError(`the ledger ${this.name} is ${error.what}, not a file: give the watch source's ledger: a file's path (or leave it out)`);
      throw error;
    }
    try {
      return new Uint8Array(await opened.handle.readFile());
    } finally {
      await opened.handle.close();
    }
  }

  async append(text: string): Promise<void> {
    const handle = await open(this.name, 'a');
    try {
      await handle.appendFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  replace(text: string): Promise<void> {
    return writeFileAtomic(this.name, text);
  }
}
