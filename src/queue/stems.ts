/**
 * Output stems in queue mode. The producer gives each input its stem (output-names.ts)
 * and the job carries it, but anyone who can write to the queue can write a job, and a
 * stem decides which files a worker writes and removes. So a worker writes under a
 * stem only if it is one the producer could have given that very input
 * (`stemCandidates` of the path it verified) and no other input holds it, or a stem
 * it collides with (`x` and `x.p0`, the pages of a multi-page `x`): claims live in a
 * Redis hash, taken atomically, and seeded from the ledger when the queue predates it.
 */
import type { Redis } from 'ioredis';
import type { LedgerEntry } from '../pipeline/ledger.js';
import { fitStem, stemCandidates } from '../pipeline/output-names.js';
import type { SourceRef } from '../sample.js';
import { keys } from './keys.js';

const PAGE = /^(.*)\.p\d+$/;

/**
 * KEYS[1]: the claims (`s:<stem>` -> path holding it, `p:<x>` -> a path holding `x.p<n>`);
 * ARGV: the path, the stem as compared, that stem without its page suffix ('' if none).
 * Returns the other path in the way, or nothing once the claim is made.
 */
const CLAIM = `
local function other(field)
  local h = redis.call('HGET', KEYS[1], field)
  if h and h ~= ARGV[1] then return h end
  return nil
end
local held = other('s:' .. ARGV[2]) or other('p:' .. ARGV[2])
if not held and ARGV[3] ~= '' then held = other('s:' .. ARGV[3]) end
if held then return held end
redis.call('HSET', KEYS[1], 's:' .. ARGV[2], ARGV[1])
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], 'p:' .. ARGV[3], ARGV[1]) end
return false`;

/** Why `stem` is not one the producer gives `ref` (its path verified, `root` set), or undefined. */
export function stemProblem(ref: SourceRef, stem: string, key: string): string | undefined {
  const candidates = stemCandidates(ref);
  if (candidates.includes(stem)) return undefined;
  return `${key}: refused, the job's output stem ${JSON.stringify(stem)} is not one a producer gives this file (${candidates.map((c) => JSON.stringify(c)).join(', ')}): its outputs would take another file's names`;
}

export class StemClaims {
  private readonly hash: string;

  constructor(
    private readonly redis: Redis,
    queue: string,
  ) {
    this.hash = keys(queue).stems;
  }

  /** Claims `stem` for the input at `key`: the other input holding it (or one it collides with), if any. */
  async claim(key: string, stem: string): Promise<string | undefined> {
    const compared = fitStem(stem).toLowerCase();
    const held = await this.redis.eval(CLAIM, 1, this.hash, key, compared, PAGE.exec(compared)?.[1] ?? '');
    return typeof held === 'string' ? held : undefined;
  }

  /** Where the claims do not exist yet (a queue older than them): the stems the ledger's entries hold. */
  async seed(entries: () => Promise<readonly LedgerEntry[]>): Promise<void> {
    if (await this.redis.exists(this.hash)) return;
    // At once: ioredis sends them in order, so the first claim of a stem wins, as in the producer.
    await Promise.all((await entries()).filter((e) => e.stem && !e.sameAs).map((e) => this.claim(e.path, e.stem!)));
  }
}
