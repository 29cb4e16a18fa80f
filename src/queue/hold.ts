/**
 * A worker's hold on a job, and what it may do with it. BullMQ's lock says which worker
 * holds a job (its key holds that worker's token, renewed every lockMs/2); a worker
 * frozen or starved for longer than lockMs loses it, and another worker takes the job
 * over while the first may still be running it. So a worker writes, removes and records
 * nothing for a job without checking that it still holds it:
 *
 * - `confirm`, right before each rename into place and each removal of an output, renews
 *   the lock if it is still this worker's (a full lockMs from then), else refuses;
 * - `write` runs the ledger entry and the report in one Redis script that checks the lock
 *   first, so that a lost hold records nothing, with no gap between check and write;
 * - `takeInput` makes the job the only one writing its input's outputs: the job of an
 *   older content of the same file, still held by a live worker, keeps them until it is
 *   over. Only then does the taker remove temporary files (outputs.ts): no live holder
 *   can rename them afterwards, and one that lost its hold finds them gone.
 *
 * What stays open: a worker that confirms and is then frozen for longer than lockMs
 * *before the rename itself* renames after its successor began. Its temporary file was
 * removed by the successor's clean-up in the meantime, so the rename fails and it leaves
 * the job (its clean-up asks again, and is refused).
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { WriteRefused } from '../io/write-guard.js';
import { keys } from './keys.js';

/** Runs ARGV's commands (each as its argument count, then its arguments) if KEYS[1] holds ARGV[1]. */
const WRITE_IF_HELD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1`;

/**
 * KEYS: the input's writer key (`<job id> <token>` of its writer), the job's lock; ARGV: job id, token, the prefix of job keys.
 * Another job whose lock exists is in the way; the same job under an older token has lost it to this one.
 */
const TAKE_INPUT = `
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 'lost' end
local cur = redis.call('GET', KEYS[1])
if cur then
  local id = string.match(cur, '^(%S+)')
  if id ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. id .. ':lock') == 1 then return 'busy:' .. id end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])
return 'ok'`;

/** Only the writer that took it lets it go: a successor under the same job id keeps it. */
const RELEASE_INPUT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

export class JobHold {
  private readonly keys: ReturnType<typeof keys>;
  /** The input this job has taken for writing (`takeInput`), until `releaseInput`. */
  private taken?: string;

  constructor(
    private readonly redis: Redis,
    queue: string,
    private readonly job: Job,
    private readonly token: string,
    private readonly lockMs: number,
    /** The input, as messages name it. */
    private readonly what: string,
  ) {
    this.keys = keys(queue);
  }

  /** The refusal of a worker that no longer holds its job. */
  lost(): WriteRefused {
    return new WriteRefused(
      `${this.what}: this worker no longer holds job ${this.job.id} (its lock lapsed: the worker was stopped, starved or cut off from Redis ` +
        `for longer than lockMs, ${this.lockMs} ms, and the job is another worker's now, or back in the queue): it writes, removes and records nothing for it`,
    );
  }

  /** Renews the lock for another lockMs if it is still this worker's; throws WriteRefused otherwise. */
  async confirm(): Promise<void> {
    if (!(await this.job.extendLock(this.token, this.lockMs))) throw this.lost();
  }

  /** Runs `commands` atomically, only if the lock is still this worker's; throws WriteRefused otherwise. */
  async write(commands: readonly (readonly (string | number)[])[]): Promise<void> {
    const args = commands.flatMap((c) => [c.length, ...c].map(String));
    const held = await this.redis.eval(WRITE_IF_HELD, 1, this.keys.jobLock(this.job.id!), this.token, ...args);
    if (held !== 1) throw this.lost();
  }

  /** Takes input `key` for this job: the id of another job of it that a live worker holds, if any; throws WriteRefused if this hold is lost. */
  async takeInput(key: string): Promise<string | undefined> {
    const r = String(await this.redis.eval(TAKE_INPUT, 2, this.keys.writer(key), this.keys.jobLock(this.job.id!), this.job.id!, this.token, this.keys.jobPrefix));
    if (r === 'lost') throw this.lost();
    if (r.startsWith('busy:')) return r.slice('busy:'.length);
    this.taken = key;
    return undefined;
  }

  /** Once the job is over, however it ended: the input it took may be taken by any job. */
  async releaseInput(): Promise<void> {
    if (this.taken === undefined) return;
    await this.redis.eval(RELEASE_INPUT, 1, this.keys.writer(this.taken), `${this.job.id!} ${this.token}`);
    this.taken = undefined;
  }
}
