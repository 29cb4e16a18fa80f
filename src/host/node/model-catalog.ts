/** The model catalog on disk (src/host/model-files.ts): metadata.json read as it is asked for, the engines' budgets. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plannedBudget } from '../../model/engines/choice.js';
import type { ModelCatalog } from '../model-files.js';

export const nodeModelCatalog: ModelCatalog = {
  metadataText: (dir) => readFileSync(join(dir, 'metadata.json'), 'utf8'),
  plannedBudget,
};
