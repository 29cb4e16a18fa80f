/**
 * Turns a training checkpoint into a model to ship: float16 weights, no optimiser
 * state, and provenance from the run's NDJSON events (steps, training time, machine).
 *
 *   npx tsx scripts/export-model.ts CHECKPOINT_DIR EVENTS.ndjson OUT_DIR
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { RunEvent } from '../src/events.js';
import { useBackend } from '../src/model/engines/choice.js';
import { loadModel, saveModel } from '../src/model/store.js';

const [checkpoint, eventsFile, out] = process.argv.slice(2);
if (!checkpoint || !eventsFile || !out) throw new Error('usage: export-model.ts CHECKPOINT_DIR EVENTS.ndjson OUT_DIR');
await useBackend('wasm');
const { model, metadata } = await loadModel(checkpoint);
const events = (await readFile(eventsFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
// Only what the checkpoint has seen: the run may have gone on after it was written.
const step = Number(metadata.provenance?.step ?? Infinity);
const steps = events.filter((e): e is Extract<RunEvent, { type: 'train-step' }> => e.type === 'train-step' && e.step <= step);
const validations = events.filter((e): e is Extract<RunEvent, { type: 'validation' }> => e.type === 'validation' && e.step <= step);
const provenance = {
  ...metadata.provenance,
  pipeline: 'pipelines/train-isbi2012.yaml',
  trainingSeconds: Math.round(steps.reduce((s, e) => s + e.seconds, 0)),
  machine: `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, no GPU (tfjs wasm)`,
  lastValidation: validations.at(-1) ?? null,
  exported: new Date().toISOString(),
};
await saveModel(out, model, { ...metadata, provenance }, undefined, { precision: 'float16' });
model.dispose();
console.log(`${out}: step ${step}, ${(provenance.trainingSeconds / 3600).toFixed(2)} h of training steps`);
