/**
 * Where `save` puts a sample's outputs, whatever holds them: encoded by the host's
 * encoder (sharp in Node, the page's in a page; the same bytes where the formats allow),
 * each written whole or not at all (a temporary name, then a move) and removed again
 * when another output of the same sample cannot be written.
 */
import type { ImageEncoder } from '../io/save-outputs.js';

export interface OutputWriter {
  readonly encode: ImageEncoder;
  /** Writes the file at `path` atomically, creating its folders. */
  write(path: string, data: Uint8Array | string): Promise<void>;
  /** Removes it; nothing when it is not there. */
  remove(path: string): Promise<void>;
}
