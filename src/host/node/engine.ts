/** Model steps' predictors in Node (src/host/engine.ts): the engine engines/choice.ts picks, the model read by store.ts. */
import { defaultThreads, openPredictor, useInferenceBackend } from '../../model/engines/choice.js';
import { loadModel } from '../../model/store.js';
import type { EngineHost } from '../engine.js';

export const nodeEngine: EngineHost = {
  async open(dir, choice, workers) {
    const engine = await useInferenceBackend(choice);
    const { model, metadata } = await loadModel(dir);
    const config = model.config;
    const threads = workers ?? defaultThreads(engine.info);
    const predictor = await openPredictor(model, engine, threads, dir);
    return { predictor, backend: engine.info, workers: threads, metadata, config };
  },
};
