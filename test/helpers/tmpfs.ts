/**
 * A real small file system for tests of full and read-only disks: a tmpfs mounted on a
 * folder (root only), filled to a few KiB, made read-only and writable again with
 * `mount -o remount`. Tests skip, saying why, where mounting is not permitted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `mount` with `args`: undefined when it worked, else why not. */
export function mount(args: string[]): string | undefined {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : r.stderr.trim() || `mount exited ${r.status}`;
}

/** Why a tmpfs cannot be mounted here, or false when it can (node:test's `skip`). */
export function tmpfsSkip(): string | false {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'unetflow-mount-probe-'));
  try {
    const why = mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    if (why) return `cannot mount a tmpfs here: ${why}`;
    spawnSync('umount', [probe]);
    return false;
  } finally {
    rmdirSync(probe);
  }
}

export class Tmpfs {
  private constructor(readonly dir: string) {}

  /** Mounts a tmpfs of `size` (e.g. `1m`) on `dir`, created if missing. */
  static mount(dir: string, size: string): Tmpfs {
    mkdirSync(dir, { recursive: true });
    const why = mount(['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    if (why) throw new Error(`mount tmpfs on ${dir}: ${why}`);
    return new Tmpfs(dir);
  }

  /** Fills the disk but for about `leaveBytes` (a few KiB: room for a small file, none for an image). */
  async fill(leaveBytes = 8192): Promise<void> {
    const slack = join(this.dir, 'slack.fill');
    writeFileSync(slack, Buffer.alloc(leaveBytes));
    const handle = await open(join(this.dir, 'filler.fill'), 'w');
    try {
      const block = Buffer.alloc(64 * 1024);
      for (;;) await handle.write(block);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      await handle.close();
    }
    await rm(slack);
  }

  /** Frees what `fill` took. */
  async free(): Promise<void> {
    await rm(join(this.dir, 'filler.fill'), { force: true });
  }

  readOnly(): void {
    const why = mount(['-o', 'remount,ro', this.dir]);
    if (why) throw new Error(`remount ${this.dir} read-only: ${why}`);
  }

  writable(): void {
    const why = mount(['-o', 'remount,rw', this.dir]);
    if (why) throw new Error(`remount ${this.dir} writable: ${why}`);
  }

  /** Unmounts (lazily, should a process still hold a file there). */
  unmount(): void {
    spawnSync('umount', ['-l', this.dir]);
  }
}
