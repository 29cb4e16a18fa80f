/**
 * What `validate` and run start-up can know without taking a file: the folders a plan
 * reads exist, the folders it writes can be written and are not folders it reads from
 * (a watch would take its own outputs in as new inputs), and each step's own check
 * (a model folder that loads). A problem found here is the pipeline's, never an input
 * file's: no file is failed or recorded for it.
 */
import { stat } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { messageOf } from '../errors.js';
import { whyNotWritable } from '../io/writable.js';
import type { Problem } from './document.js';
import type { Note, Plan } from './plan.js';
import { sourceFolders, type Listed } from './sources/open.js';

type Path = readonly (string | number)[];
type Locate = (path: Path) => { line: number; column: number } | undefined;

export interface PlanCheck {
  readonly problems: Problem[];
  readonly notes: Note[];
}

export async function checkPlan(plan: Plan, locate: Locate): Promise<PlanCheck> {
  const problems: Problem[] = [];
  const notes: Note[] = [];
  const problem = (path: Path, message: string) => problems.push({ path, message, ...locate(path) });

  const listed = sourceFolders(plan);
  for (const { path, query, watch } of listed) {
    const s = await stat(query.dir).catch(() => undefined);
    if (watch) {
      if (!s) notes.push({ message: `${query.dir} does not exist yet: the run waits for it to appear`, validateOnly: true });
      else if (!s.isDirectory()) problem(path, `${query.dir} is not a folder`);
    } else if (!s) problem(path, `${query.dir}: folder not found`);
    else if (!s.isDirectory() && !(path[1] === 'files' && !query.pattern)) problem(path, `${query.dir} is not a folder`); // `files: FILE` may name one image
  }

  for (const step of plan.steps) {
    const at = ['steps', step.index, step.name];
    if (step.name === 'save') {
      const dir = resolve(plan.baseDir, (step.params as { dir: string }).dir);
      const why = await whyNotWritable(dir);
      if (why) problem([...at, 'dir'], why);
      for (const source of listed) {
        if (takesIn(source, dir)) {
          problem([...at, 'dir'], `the output folder ${dir} is ${dir === source.query.dir ? 'the' : 'inside the'} folder the source ${source.watch ? 'watches' : 'reads'} (${source.query.dir}): outputs would be taken in as new inputs. Write them elsewhere`);
        }
      }
    }
    try {
      await step.check?.();
    } catch (error) {
      problem(at, messageOf(error).replace(new RegExp(`^${step.name}: `), ''));
    }
  }

  const { source } = plan.definition;
  if ('watch' in source && typeof source.watch !== 'string' && source.watch.ledger) {
    const why = await whyNotWritable(dirname(resolve(plan.baseDir, source.watch.ledger)));
    if (why) problem(['source', 'watch', 'ledger'], why);
  }
  if (plan.definition.queue !== undefined) for (const p of queueProblems(plan)) problem(p.path, p.message);
  return { problems, notes };
}

/**
 * What keeps a plan from running through a queue: a stream-scoped step (training) sees
 * every sample of the run, on one machine, so it cannot be spread over workers.
 */
export function queueProblems(plan: Plan): { path: Path; message: string }[] {
  return plan.steps
    .filter((s) => s.scope === 'stream')
    .map((s) => ({
      path: ['steps', s.index, s.name],
      message: `${s.name} sees every sample of the run, so it runs on one machine only and cannot run through a queue: run this pipeline without --queue and without a queue: section`,
    }));
}

/** Whether listing the source would come across files written to `dir`. */
function takesIn({ query }: Listed, dir: string): boolean {
  const rel = relative(query.dir, dir);
  if (rel === '') return true;
  const inside = !rel.startsWith('..') && !isAbsolute(rel);
  return inside && (Boolean(query.recursive) || Boolean(query.pattern?.includes('/')));
}
