/**
 * The watch source's filter for paths that are not inputs: a FIFO named `x.png` would
 * block whoever opens it, a link to /dev/zero would be read forever. Each such path is
 * reported once (again only after it is removed and comes back as something else).
 */
import { messageOf } from '../../errors.js';
import { inputKind } from '../../io/input-kind.js';

export class NonInputs {
  private readonly reported = new Map<string, string>();

  constructor(private readonly warn: (message: string) => void) {}

  /** Whether `path` is a regular file (or a link to one); says once why not. Never opens it. */
  async check(path: string): Promise<boolean> {
    let why: string;
    try {
      const kind = await inputKind(path);
      if (kind.regular) {
        this.reported.delete(path);
        return true;
      }
      why = `not an image file but ${kind.what}: skipped (only regular files, or links to them, are read)`;
    } catch (error) {
      // Gone again before it could be looked at: the watcher reports it anew if it comes back.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      why = `cannot be looked at (${messageOf(error)}): skipped`;
    }
    if (this.reported.get(path) !== why) this.warn(`${path}: ${why}`);
    this.reported.set(path, why);
    return false;
  }

  forget(path: string): void {
    this.reported.delete(path);
  }
}
