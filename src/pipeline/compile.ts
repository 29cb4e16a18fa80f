/**
 * From a pipeline document to a plan: the top level checked against its codec, each
 * step against its operator's codec, each operator created (so cross-field rules run
 * too), and every problem reported with file:line:column and the step path.
 */
import { isLeft } from 'fp-ts/lib/Either.js';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toIssues } from '../codec/report.js';
import { messageOf } from '../errors.js';
import { deriveSeed } from '../random.js';
import type { StepContext } from '../../operators/step.js';
import { PipelineDefinition } from './definition.js';
import type { PipelineDocument, Problem } from './document.js';
import type { Plan, PlannedStep, RunHooks } from './plan.js';
import type { OperatorDefinition, OperatorRegistry } from './registry.js';

export async function compile(
  document: PipelineDocument,
  registry: OperatorRegistry,
  hooks: RunHooks = {},
  baseDir = dirname(resolve(document.file)),
): Promise<{ plan?: Plan; problems: Problem[] }> {
  const problems: Problem[] = [];
  const problem = (path: readonly (string | number)[], message: string) =>
    problems.push({ path, message, ...document.locate(path) });

  const decoded = PipelineDefinition.decode(document.value);
  if (isLeft(decoded)) {
    for (const issue of toIssues(decoded.left)) problem(issue.path, issue.message);
  }
  const raw = (document.value ?? {}) as Record<string, unknown>;
  const definition = isLeft(decoded) ? undefined : decoded.right;

  const runRegistry = registry.clone();
  const uses = definition?.use === undefined ? [] : Array.isArray(definition.use) ? definition.use : [definition.use];
  for (const [i, spec] of uses.entries()) {
    const path = Array.isArray(definition?.use) ? ['use', i] : ['use'];
    try {
      for (const d of await importOperators(resolve(baseDir, spec))) runRegistry.register(d);
    } catch (error) {
      problem(path, `cannot use ${spec}: ${messageOf(error)}`);
    }
  }

  const seed = definition?.seed ?? 0;
  const steps: PlannedStep[] = [];
  const rawSteps = Array.isArray(raw.steps) ? raw.steps : [];
  let scope: 'sample' | 'stream' = 'sample';
  rawSteps.forEach((step, index) => {
    const at = ['steps', index];
    if (typeof step !== 'object' || step === null || Array.isArray(step) || Object.keys(step).length !== 1) {
      return problem(at, 'expected one operator with its parameters, e.g. `- mirror: { margin: 92 }`');
    }
    const [name, params] = Object.entries(step)[0];
    const op = runRegistry.get(name);
    if (!op) return problem([...at, name], runRegistry.unknown(name));
    if (index === 0 && name !== 'load') problem([...at, name], "the first step must be 'load' (it reads the source's files)");
    if (index > 0 && name === 'load') problem([...at, name], "'load' can only be the first step");
    const result = op.params.decode(params ?? {});
    if (isLeft(result)) {
      for (const issue of toIssues(result.left, [...at, name])) problem(issue.path, issue.message);
      return;
    }
    const label = `steps[${index}].${name}`;
    const ctx: StepContext = { step: label, seed: deriveSeed(seed, 'step', index), baseDir, ...hooks };
    try {
      const operator = op.create(result.right, ctx);
      if ((op.scope ?? 'sample') === 'stream') scope = 'stream';
      const check = op.check;
      steps.push({
        index, name, label, scope, operator, params: result.right,
        ...(op.window ? { window: op.window(result.right) } : {}),
        ...(check ? { check: () => check(result.right, ctx) } : {}),
      });
    } catch (error) {
      problem([...at, name], messageOf(error).replace(new RegExp(`^${name}: `), ''));
    }
  });

  if (problems.length || !definition) return { problems };
  const save = steps.find((s) => s.name === 'save');
  const outputDir = save ? resolve(baseDir, (save.params as { dir: string }).dir) : undefined;
  return { plan: { file: document.file, baseDir, definition, steps, outputDir }, problems };
}

/** A `use:` module default-exports one operator definition or a list of them. */
async function importOperators(path: string): Promise<OperatorDefinition[]> {
  const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  const exported = module.default;
  const list = Array.isArray(exported) ? exported : [exported];
  for (const d of list) {
    const ok = d && typeof d === 'object' && typeof (d as OperatorDefinition).name === 'string' &&
      typeof (d as OperatorDefinition).create === 'function' && typeof (d as OperatorDefinition).params?.decode === 'function';
    if (!ok) throw new Error('its default export must be an operator definition (see defineOperator) or a list of them');
  }
  return list as OperatorDefinition[];
}
