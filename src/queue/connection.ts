/**
 * Where the queue's Redis is: `redis://[user:password@]host:port/db`, or `rediss://` for
 * TLS. The password may also come from UNETFLOW_REDIS_PASSWORD, which keeps it off the
 * command line (where `ps` shows it to every user of the machine). Credentials are never
 * printed: `display` is the URL without them, and `redact` scrubs them from any message.
 */
import { Redis } from 'ioredis';
import { ConfigError } from '../errors.js';

export interface QueueConnection {
  /** Options for ioredis (and BullMQ, which passes them on). */
  readonly options: {
    readonly host: string;
    readonly port: number;
    readonly db: number;
    readonly username?: string;
    readonly password?: string;
    readonly tls?: { readonly servername: string };
    /** BullMQ's workers need commands to wait for a reconnection rather than fail. */
    readonly maxRetriesPerRequest: null;
  };
  /** The URL as it may be shown: `rediss://host:6380/0`, a password replaced by `***`. */
  readonly display: string;
  /** Replaces the credentials wherever they appear in `text` (an error from the client). */
  redact(text: string): string;
}

/** Parses a queue URL; a malformed one is a ConfigError (exit 2) that does not repeat it whole. */
export function parseQueueUrl(url: string, env: Readonly<Record<string, string | undefined>> = process.env): QueueConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch (error) {
    throw new ConfigError(`--queue: expected redis://host:port/db or rediss://host:port/db, got something that is not a URL (${redactUrlText(url)})`, { cause: error });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(`--queue: expected a redis:// or rediss:// URL, got ${u.protocol}//…`);
  }
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`--queue: the database is a number after the port (redis://host:6379/0), got '${u.pathname.slice(1)}'`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : 6379;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : env.UNETFLOW_REDIS_PASSWORD || undefined;
  const tls = u.protocol === 'rediss:';
  const secrets = [password, u.password, username && password ? username : undefined].filter((s): s is string => Boolean(s));
  const display = `${u.protocol}//${username ? `${encodeURIComponent(username)}:***@` : password ? ':***@' : ''}${u.host}/${db}`;
  return {
    options: {
      host,
      port,
      db,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(tls ? { tls: { servername: host } } : {}),
      maxRetriesPerRequest: null,
    },
    display,
    redact: (text) => secrets.reduce((t, s) => t.split(s).join('***'), redactUrlText(text)),
  };
}

/** `scheme://user:secret@` -> `scheme://user:***@` anywhere in a text. */
function redactUrlText(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

/**
 * A client that has answered PING: commands then wait through later disconnections (a
 * Redis restart) instead of failing. One that cannot connect within `timeoutMs` fails
 * with the client's last error, credentials removed.
 */
export async function connect(connection: QueueConnection, timeoutMs = 10_000, watch?: ConnectionWatch): Promise<Redis> {
  const redis = new Redis({ ...connection.options, connectionName: 'unetflow' });
  // Its copies (a producer's blocking reader) report to the watch too: ioredis prints "Unhandled error event" for a client with no listener.
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => duplicate(override).on('error', (error: Error) => watch?.heard(error));
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  let refused: (error: Error) => void = () => undefined;
  const onError = (error: Error) => {
    last = error.message;
    // A wrong password or an untrusted certificate will not come right by retrying; a server not up yet may.
    if (/WRONGPASS|NOAUTH|invalid username-password|AUTH|certificate|CERT_/i.test(`${error.message} ${(error as NodeJS.ErrnoException).code ?? ''}`)) refused(error);
  };
  // Kept after connecting: later errors (a Redis restart) show as commands that wait, which ioredis would otherwise also print.
  redis.on('error', onError);
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        refused = reject;
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
    watch?.follow(redis);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(connection.redact(`cannot reach the queue's Redis at ${connection.display}: ${last || (error as Error).message} (is redis-server running there, and the password and certificate right?)`));
  } finally {
    clearTimeout(timer);
  }
}

/** Errors of the connection itself (Redis down, restarting, unreachable), not of a command. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (typeof code === 'string' && CONNECTION_CODES.has(code)) || /Connection is closed|Socket closed unexpectedly|ECONNREFUSED|ECONNRESET/.test(String((error as Error | undefined)?.message ?? ''));
}

/**
 * Says a lost connection to the queue's Redis once, in words, and its return. A Redis
 * restart otherwise shows as the same refusal from every client (ours, BullMQ's) several
 * times a second until it is back. The client `connect` gives decides what is said: its
 * first connection error after being up, then its next `ready`; the errors of other
 * clients (`heard`) are only kept from being said again.
 */
export class ConnectionWatch {
  private down = false;

  constructor(
    private readonly connection: QueueConnection,
    private readonly say: (level: 'warn' | 'info', message: string) => void,
  ) {}

  /** Follows the client that `connect` made. */
  follow(redis: Redis): void {
    redis.on('error', (error: Error) => {
      if (!isConnectionError(error) || this.down) return;
      this.down = true;
      const why = this.connection.redact(error.message.split('\n')[0]);
      this.say('warn', `queue: lost the connection to the queue's Redis at ${this.connection.display} (${why}); waiting for it to come back`);
    });
    redis.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      this.say('info', `queue: reconnected to the queue's Redis at ${this.connection.display}`);
    });
  }

  /** Another client's error: true when it is the connection's, which the followed client says; false for the caller to say. */
  heard(error: unknown): boolean {
    return isConnectionError(error);
  }
}
