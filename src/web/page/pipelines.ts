/// <reference lib="dom" />
/** The pipeline files the app ships (pipelines/ of the build) and the one a user opens. */

import type { PipelineText } from '../runner.js';

export type { PipelineText };

/** The Quick start job: what the page offers when nothing else is chosen. */
export const QUICK_START = 'demo.yaml';

/** The bundled pipelines' names: the build's pipelines/index.json, else just the Quick start. */
export async function bundledPipelines(): Promise<string[]> {
  try {
    const response = await fetch('pipelines/index.json');
    if (response.ok) {
      const names = (await response.json()) as unknown;
      if (Array.isArray(names) && names.every((n) => typeof n === 'string')) {
        // The Quick start first, then the rest as they come.
        return [...names.filter((n) => n === QUICK_START), ...names.filter((n) => n !== QUICK_START)];
      }
    }
  } catch {
    // offline before the list was cached: the Quick start alone
  }
  return [QUICK_START];
}

export async function bundledPipeline(name: string): Promise<PipelineText> {
  const response = await fetch(`pipelines/${encodeURIComponent(name)}`);
  if (!response.ok) throw new Error(`pipelines/${name}: not in this build of the app (HTTP ${response.status})`);
  return { name, text: await response.text() };
}

export async function pickedPipeline(file: File): Promise<PipelineText> {
  return { name: file.name, text: await file.text() };
}
