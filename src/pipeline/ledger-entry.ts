/**
 * The codec of a ledger entry (LedgerEntry, ledger.ts), for entries read back: the watch
 * ledger's lines that the live page follows, and the queue's ledger in Redis. Keys it
 * does not know are let through, so that a ledger written by a later version still reads.
 */
import * as t from 'io-ts';
import { oneOf } from '../codec/building-blocks.js';

export const LedgerEntryCodec = t.intersection(
  [
    t.type({
      path: t.string,
      status: oneOf(['done', 'failed']),
      outputs: t.record(t.string, t.string, 'output names and their paths'),
      size: t.number,
      mtimeMs: t.number,
      time: t.string,
    }),
    t.partial({
      hash: t.string,
      error: t.string,
      sameAs: t.string,
      stem: t.string,
      seconds: t.number,
      objects: t.number,
    }),
  ],
  'ledger entry',
);
