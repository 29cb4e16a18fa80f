/**
 * A real Redis for tests: Debian's redis-server on a free loopback port, in a temporary
 * folder, stopped (and its folder removed) by `stop`. Tests that need one skip, saying
 * why, only where redis-server is not installed (CI's .ci/services installs it); where
 * it is, a server that will not start fails them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { tempDir } from './files.js';

const BINARY = 'redis-server';

/** node:test's `skip` option for a test that needs redis-server. */
export function needsRedis(): { skip: string | false } {
  const found = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  return { skip: found.error ? `${BINARY} not installed (Debian package redis-server)` : false };
}

/** What `redisForFile` gives a test file: set before its first test runs. */
export interface RedisForFile {
  server: RedisServer;
  redis: Redis;
  /** Processes a test started: resumed (should it have stopped one with SIGSTOP) and killed after the file's tests. */
  readonly running: { readonly child: ChildProcess }[];
}

/**
 * One redis-server and a client for all the tests of a file: started before them
 * (unless `skip` says why not), stopped after them, with the processes left in `running`.
 */
export function redisForFile(o: { skip: string | false; appendOnly?: boolean }): RedisForFile {
  const db = { running: [] } as unknown as RedisForFile;
  before(async () => {
    if (o.skip) return;
    db.server = await RedisServer.start({ appendOnly: o.appendOnly ?? false });
    db.redis = new Redis(db.server.url);
  });
  after(async () => {
    for (const { child } of db.running) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
    }
    db.redis?.disconnect();
    await db.server?.stop();
  });
  return db;
}

export class RedisServer {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly appendOnly: boolean,
    private readonly password?: string,
    private readonly tls = false,
  ) {}

  /** With the password, when there is one; `rediss://localhost` (the certificate's name) with TLS. */
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://${this.password ? `:${encodeURIComponent(this.password)}@` : ''}${this.tls ? 'localhost' : '127.0.0.1'}:${this.port}/0`;
  }

  /** With TLS: the certificate authority that signed the server's certificate. */
  get caFile(): string {
    return join(this.dir, 'ca.pem');
  }

  /**
   * `appendOnly`: persist every write (`appendfsync always`), so that a restart loses nothing;
   * `password`: required of clients; `tls`: TLS only, with a certificate for localhost signed by `caFile` (openssl makes them).
   */
  static async start({ appendOnly = false, password, tls = false }: { appendOnly?: boolean; password?: string; tls?: boolean } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), await tempDir('unetflow-redis-'), appendOnly, password, tls);
    if (tls) certificates(server.dir);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const ports = this.tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', join(this.dir, 'server.pem'), '--tls-key-file', join(this.dir, 'server.key'), '--tls-ca-cert-file', this.caFile, '--tls-auth-clients', 'no']
      : ['--port', String(this.port)];
    const args = [...ports, '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--logfile', '', '--daemonize', 'no'];
    if (this.appendOnly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    if (this.password) args.push('--requirepass', this.password);
    const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Ready to accept connections')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${log}`)));
    });
    child.removeAllListeners('exit');
  }

  /**
   * Stops the server (SHUTDOWN on SIGTERM: the append-only file is flushed) and starts it again on the same port and folder,
   * once `whileDown` (a wait for what clients do meanwhile) has resolved.
   */
  async restart(whileDown?: () => Promise<unknown>): Promise<void> {
    await this.halt();
    await whileDown?.();
    await this.launch();
  }

  private async halt(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async stop(): Promise<void> {
    await this.halt();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A certificate authority and a server certificate for localhost and 127.0.0.1 that it signed. */
function certificates(dir: string): void {
  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=unetflow test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
