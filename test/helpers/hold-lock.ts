/** A process that takes the lock named on its command line, says `held`, and waits to be killed. */
import { acquireLock } from '../../src/io/lock.js';

await acquireLock(process.argv[2], { guards: 'a test folder', because: 'a test', otherwise: 'wait' });
process.stdout.write('held\n');
setInterval(() => {}, 1000);
