/** `unetflow status --queue URL [PIPELINE...]`: each queue's jobs, ledger counts and workers. */
import { Option, type Command } from 'commander';
import { messageOf } from '../errors.js';
import { connect, parseQueueUrl } from '../queue/connection.js';
import { queueName } from '../queue/keys.js';
import { queueNames, queueStatus } from '../queue/status.js';

export function addStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the waiting, active, done and failed counts and the workers of the pipelines queued on a Redis')
    .requiredOption('--queue <url>', 'redis://[user:password@]host:port/db or rediss://')
    .argument('[pipeline...]', 'pipeline names (default: every unetflow queue there)')
    .addOption(new Option('--json', 'one JSON object per queue'))
    .action(async (pipelines: string[], opts: { queue: string; json?: boolean }) => {
      process.exitCode = await statusCommand(pipelines, opts);
    });
}

async function statusCommand(pipelines: string[], opts: { queue: string; json?: boolean }): Promise<number> {
  let connection;
  try {
    connection = parseQueueUrl(opts.queue);
  } catch (error) {
    process.stderr.write(`${messageOf(error)}\n`);
    return 2;
  }
  try {
    const redis = await connect(connection);
    try {
      const names = pipelines.length ? pipelines.map(queueName) : await queueNames(redis);
      if (!names.length && !opts.json) process.stdout.write(`no unetflow queues at ${connection.display}\n`);
      for (const name of names) {
        const s = await queueStatus(redis, connection, name);
        if (opts.json) process.stdout.write(JSON.stringify(s) + '\n');
        else {
          process.stdout.write(
            `${s.queue} (${connection.display}): ${s.waiting} waiting, ${s.active} active, ${s.done} done, ${s.failed} failed; ` +
              `${s.workers.length} worker${s.workers.length === 1 ? '' : 's'}${s.workers.length ? `: ${s.workers.join(', ')}` : ''}\n`,
          );
        }
      }
      return 0;
    } finally {
      redis.disconnect();
    }
  } catch (error) {
    process.stderr.write(`unetflow: ${connection.redact(messageOf(error))}\n`);
    return 1;
  }
}
