/**
 * Server-sent events to each connected page, through a bounded queue per page. The run
 * never waits for a page: `broadcast` only appends to queues. A page that does not read
 * fast enough (a slow network, a suspended laptop) has its queue emptied and counted
 * once it is full; when it reads again it is told how many updates it lost and gets a
 * fresh snapshot, so it shows the truth again without anything having been held for it.
 */

/** One message as the wire carries it: `event: <name>\ndata: <json>\n\n`. */
export function sseMessage(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface ClientOptions {
  /** Messages a page may have waiting before they are dropped. @default 512 */
  readonly capacity?: number;
  /** The message that brings a page up to date: called when it connects and after it lost messages. */
  readonly snapshot: () => string;
}

/**
 * A page's queue. `push` never blocks and never grows it past `capacity`; `next`
 * resolves with what to write next, waiting while there is nothing.
 */
export class ClientQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private waiting?: (message: string | undefined) => void;
  private closed = false;
  /** Messages dropped since the page last caught up, and in all. */
  private lost = 0;
  droppedTotal = 0;
  private readonly capacity: number;

  constructor(private readonly options: ClientOptions) {
    this.capacity = options.capacity ?? 512;
    this.queue.push(options.snapshot());
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  push(message: string): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      return resolve(message);
    }
    if (this.length >= this.capacity) {
      // Full: what is queued is stale anyway; the page gets a snapshot instead once it reads again.
      this.lost += this.length + 1;
      this.droppedTotal += this.length + 1;
      this.queue.length = 0;
      this.head = 0;
      return;
    }
    this.queue.push(message);
  }

  /** The next message to write, or undefined once closed. */
  next(): Promise<string | undefined> {
    if (this.lost > 0 && this.length === 0) {
      const notice = sseMessage('dropped', { count: this.lost, total: this.droppedTotal });
      this.lost = 0;
      return Promise.resolve(notice + this.options.snapshot());
    }
    if (this.length > 0) {
      const message = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve(message);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    this.closed = true;
    this.waiting?.(undefined);
    this.waiting = undefined;
  }
}

/** Every connected page's queue; `broadcast` serialises a message once for all of them. */
export class Broadcaster {
  private readonly clients = new Set<ClientQueue>();

  constructor(private readonly snapshot: () => string, private readonly capacity?: number) {}

  get size(): number {
    return this.clients.size;
  }

  /** Per page: messages waiting, and messages dropped so far. */
  queues(): { queued: number; dropped: number }[] {
    return [...this.clients].map((c) => ({ queued: c.length, dropped: c.droppedTotal }));
  }

  broadcast(name: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const message = sseMessage(name, data);
    for (const client of this.clients) client.push(message);
  }

  /**
   * An SSE response body for one page. The HTTP layer reads it only as fast as the
   * socket drains (pull), so what waits for a slow page is its bounded queue and the
   * socket's own buffer, nothing more.
   */
  stream(): ReadableStream<Uint8Array> {
    const client = new ClientQueue({ snapshot: this.snapshot, ...(this.capacity ? { capacity: this.capacity } : {}) });
    this.clients.add(client);
    const encoder = new TextEncoder();
    const leave = () => {
      this.clients.delete(client);
      client.close();
    };
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const message = await client.next();
          if (message === undefined) return controller.close();
          controller.enqueue(encoder.encode(message));
        },
        cancel: leave,
      },
      // Nothing is read ahead into the stream's own queue: it would be a second, unbounded-by-us buffer.
      { highWaterMark: 0 },
    );
  }

  /** Ends every page's stream once it has written what it holds (the server is closing). */
  closeAll(): void {
    for (const client of this.clients) client.close();
    this.clients.clear();
  }
}
