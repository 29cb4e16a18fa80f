/**
 * Downscaled copies of output images for the page's gallery: made with sharp when a page
 * asks (never as files finish, so the run does no work for them), a few at a time, and
 * kept in a cache bounded in entries and bytes. A file that changes (same path, new
 * mtime or size) gets a new thumbnail.
 */
import sharp from 'sharp';
import type { ServedFile } from './files.js';

export interface ThumbnailOptions {
  /** Longest side in pixels; smaller images keep their size. @default 256 */
  readonly size?: number;
  /** Thumbnails made at once. @default 1: the run comes first */
  readonly concurrency?: number;
  /** @default 500 */
  readonly maxEntries?: number;
  /** @default 32 MiB */
  readonly maxBytes?: number;
}

export class Thumbnails {
  private readonly cache = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();
  private bytes = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Thumbnails made (not found in the cache); for tests and the page's footer. */
  made = 0;
  private readonly size: number;
  private readonly concurrency: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(options: ThumbnailOptions = {}) {
    this.size = options.size ?? 256;
    this.concurrency = options.concurrency ?? 1;
    this.maxEntries = options.maxEntries ?? 500;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  }

  get entries(): number {
    return this.cache.size;
  }

  /** A WebP thumbnail of the file; rejects when sharp cannot read it. */
  get(file: ServedFile): Promise<Buffer> {
    const key = `${file.path}\0${file.mtimeMs}\0${file.size}`;
    const hit = this.cache.get(key);
    if (hit) {
      // Most recently used last: Map keeps insertion order, so the first key is the least recent.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return Promise.resolve(hit);
    }
    let work = this.pending.get(key);
    if (!work) {
      work = this.limited(() => this.make(file.path)).then((buffer) => {
        this.store(key, buffer);
        return buffer;
      });
      work.finally(() => this.pending.delete(key)).catch(() => {});
      this.pending.set(key, work);
    }
    return work;
  }

  private async make(path: string): Promise<Buffer> {
    this.made++;
    return sharp(path, { limitInputPixels: 1e9 })
      .resize(this.size, this.size, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .webp({ quality: 80 })
      .toBuffer();
  }

  private store(key: string, buffer: Buffer): void {
    if (buffer.length > this.maxBytes) return;
    this.cache.set(key, buffer);
    this.bytes += buffer.length;
    for (const [k, b] of this.cache) {
      if (this.cache.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.cache.delete(k);
      this.bytes -= b.length;
    }
  }

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    while (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
