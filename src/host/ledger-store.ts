/**
 * Where a watch ledger's lines are kept: a file beside the outputs on either host (on
 * disk for the CLI, in the output folder's handle in a page), in the same JSON-lines
 * format (src/pipeline/ledger-lines.ts), so that a folder half done by one host is
 * finished by the other with nothing done twice.
 */
export interface LedgerStore {
  /** How messages name it, e.g. its path. */
  readonly name: string;
  /** Its bytes; empty when it does not exist yet. */
  read(): Promise<Uint8Array>;
  /** Appends `text` (whole lines), durably before it resolves, as far as the host allows. */
  append(text: string): Promise<void>;
  /** Replaces the content with `text` at once (compaction, mending a torn last line). */
  replace(text: string): Promise<void>;
}

/** The ledger's file name in a save folder, on both hosts, when the watch source names none. */
export const LEDGER_FILE = '.unetflow-ledger.jsonl';
