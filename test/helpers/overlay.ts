/**
 * A folder whose changes no file watcher sees, as with a network share that another
 * machine writes into: an overlay mount (root only), whose files written straight into
 * its upper folder appear in the mounted folder's listing with no inotify event there.
 * Tests skip, saying why, where mounting is not permitted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mount } from './tmpfs.js';

export class Overlay {
  private constructor(
    /** The mounted folder: watch it. */
    readonly mounted: string,
    /** Where files are written unseen: what is written here appears in `mounted`. */
    readonly beneath: string,
  ) {}

  /** Why an overlay cannot be mounted here, or false when it can (node:test's `skip`). */
  static skip(): string | false {
    if (process.getuid?.() !== 0) return 'mounting an overlay needs root';
    const probe = mkdtempSync(join(tmpdir(), 'unetflow-overlay-probe-'));
    try {
      const overlay = Overlay.mount(probe);
      overlay.unmount();
      return false;
    } catch (error) {
      return `cannot mount an overlay here: ${(error as Error).message}`;
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  }

  /** Mounts an overlay in `dir` (its lower, upper, work and mount folders are made there). */
  static mount(dir: string): Overlay {
    const [lower, upper, work, mounted] = ['lower', 'upper', 'work', 'mounted'].map((name) => join(dir, name));
    for (const d of [lower, upper, work, mounted]) mkdirSync(d, { recursive: true });
    const why = mount(['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, mounted]);
    if (why) throw new Error(`mount overlay on ${mounted}: ${why}`);
    return new Overlay(mounted, upper);
  }

  /** Unmounts (lazily, should a process still hold a file there). */
  unmount(): void {
    spawnSync('umount', ['-l', this.mounted]);
  }
}
