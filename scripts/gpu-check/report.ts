/**
 * What a check's JSON must hold. For a dry run (lavapipe: every stage can run) every
 * stage must have succeeded and the forward passes must match the reference; for a
 * full run on a lent machine, only the shape is checked (a stage may fail there, and
 * its error is the finding).
 */
import { stageOrder, type ProfileName } from './profile.js';

/** Mesa's software Vulkan driver (bookworm-backports' Mesa 25 here), which the dry run pins. */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

/** The largest difference from the reference a forward pass may have. */
export const TOLERANCE = 1e-4;

const statuses = ['ok', 'error', 'timeout', 'skipped'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The problems with `report`, none when it is as it must be. */
export function checkReport(report: unknown, profile: ProfileName): string[] {
  const problems: string[] = [];
  if (!isObject(report)) return ['the report is not a JSON object'];
  if (report.schema !== 'unetflow-gpu-check/1') problems.push(`schema is ${String(report.schema)}, expected unetflow-gpu-check/1`);
  if (report.profile !== profile) problems.push(`profile is ${String(report.profile)}, expected ${profile}`);
  if (!isNumber(report.seconds)) problems.push('seconds: missing (the check did not finish)');
  else if (isNumber(report.totalLimitSeconds) && report.seconds > report.totalLimitSeconds) problems.push(`the check took ${report.seconds} s, over its ${report.totalLimitSeconds} s`);
  if (!isObject(report.kit)) problems.push('kit: the manifest is missing');
  const stages = isObject(report.stages) ? report.stages : {};
  for (const name of stageOrder) {
    const stage = stages[name];
    if (!isObject(stage)) {
      problems.push(`${name}: missing`);
      continue;
    }
    if (!statuses.includes(String(stage.status))) problems.push(`${name}: status ${String(stage.status)}`);
    if (!isNumber(stage.limitSeconds)) problems.push(`${name}: no limitSeconds`);
    if (profile === 'dry-run' && stage.status !== 'ok') problems.push(`${name}: ${String(stage.status)}: ${String(stage.error).split('\n')[0]}`);
  }
  if (profile !== 'dry-run') return problems;
  const result = (name: string): Json => {
    const stage = stages[name];
    return isObject(stage) && isObject(stage.result) ? stage.result : {};
  };
  const adapter = result('adapters').highPerformance;
  if (!isObject(adapter) || !isObject(adapter.info) || typeof adapter.info.vendor !== 'string') problems.push('adapters: no high-performance adapter described');
  for (const engine of ['onnxruntime-webgpu', 'tfjs-webgpu']) {
    const forward = result(`forward:${engine}`);
    if (!isNumber(forward.maxAbsDiff) || forward.maxAbsDiff > TOLERANCE) problems.push(`forward:${engine}: max abs diff to the reference ${String(forward.maxAbsDiff)}, expected <= ${TOLERANCE}`);
    if (!isNumber(result(`slice:${engine}`).secondsPerSlice)) problems.push(`slice:${engine}: no secondsPerSlice`);
    const image = result(`image:${engine}`);
    for (const way of ['oneTile', 'tiles']) if (!isObject(image[way]) || !isNumber((image[way] as Json).secondsPerImage)) problems.push(`image:${engine}.${way}: no secondsPerImage`);
  }
  const providers = result('forward:onnxruntime-webgpu').nodesByProvider;
  if (!isObject(providers) || !isNumber(providers.WebGpuExecutionProvider)) problems.push(`forward:onnxruntime-webgpu: no node ran on the WebGPU provider (${JSON.stringify(providers)})`);
  for (const name of ['train:tfjs-webgpu:f16', 'train:tfjs-webgpu:f64']) {
    const train = result(name);
    if (!isNumber(train.secondsPerStep) || train.lossIsFinite !== true) problems.push(`${name}: secondsPerStep ${String(train.secondsPerStep)}, loss ${String(train.loss)}`);
  }
  if (result('train:tfjs-node-gpu').unavailable !== true) problems.push('train:tfjs-node-gpu: not recorded as unavailable');
  const cli = result('cli');
  const slices = isObject(cli.slices) ? cli.slices.count : undefined;
  if (cli.exitCode !== 0 || cli.filesDone !== slices) problems.push(`cli: exit ${String(cli.exitCode)}, ${String(cli.filesDone)} of ${String(slices)} files done`);
  if (!Array.isArray(cli.backendEvents) || cli.backendEvents.length === 0) problems.push('cli: no backend event');
  return problems;
}
