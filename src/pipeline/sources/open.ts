/** Opens a plan's source: the refs to process, and what the run needs to know about them. */
import { resolve } from 'node:path';
import { Observable } from 'rxjs';
import type { RunEvent } from '../../events.js';
import { filesSource, folderQuery, pairsSource, type FolderQuery } from '../../io/folders.js';
import type { SourceRef } from '../../sample.js';
import { PipelineError } from '../pipeline-error.js';
import type { Plan } from '../plan.js';
import { watchFolder } from './watch.js';

export interface OpenSource {
  readonly refs: Observable<SourceRef>;
  readonly watch: boolean;
  readonly root: string;
  readonly total?: number;
  readonly ledgerFile?: string;
}

export async function openSource(plan: Plan, signal: AbortSignal, emit: (e: RunEvent) => void): Promise<OpenSource> {
  const { source } = plan.definition;
  const epochs = plan.definition.epochs ?? 1;
  const stopAware = (refs: SourceRef[]) =>
    new Observable<SourceRef>((sub) => {
      for (let epoch = 0; epoch < epochs; epoch++) {
        for (const r of refs) {
          if (signal.aborted) break;
          sub.next(epochs > 1 ? { ...r, epoch } : r);
        }
      }
      sub.complete();
    });
  const onSkip = (path: string, why: string) => emit({ type: 'log', level: 'warn', file: path, message: `${path}: skipped, ${why}` });
  if ('files' in source) {
    const [{ query }] = sourceFolders(plan);
    const refs = await filesSource(query, onSkip);
    if (refs.length === 0) emit({ type: 'log', level: 'warn', message: `no image files in ${query.dir}${query.pattern ? ` matching ${query.pattern}` : ''}` });
    return { refs: stopAware(refs), watch: false, root: query.dir, total: refs.length * epochs };
  }
  if ('pairs' in source) {
    const [images, labels] = sourceFolders(plan).map((f) => f.query);
    const { refs, unmatchedImages, unmatchedLabels } = await pairsSource(images, labels, onSkip);
    for (const path of unmatchedImages) emit({ type: 'log', level: 'warn', message: `${path}: no label with the same name in ${labels.dir}; skipped` });
    for (const path of unmatchedLabels) emit({ type: 'log', level: 'warn', message: `${path}: no image with the same name in ${images.dir}; skipped` });
    return { refs: stopAware(refs), watch: false, root: images.dir, total: refs.length * epochs };
  }
  if (plan.definition.epochs !== undefined && epochs > 1) {
    throw new PipelineError(plan.file, [{ path: ['epochs'], message: 'epochs applies to files and pairs sources, not to watch' }]);
  }
  const w = typeof source.watch === 'string' ? { dir: source.watch } : source.watch;
  const dir = resolve(plan.baseDir, w.dir);
  const ledgerFile = 'ledger' in w && w.ledger ? resolve(plan.baseDir, w.ledger) : plan.outputDir ? resolve(plan.outputDir, '.unetflow-ledger.jsonl') : undefined;
  if (!ledgerFile) {
    throw new PipelineError(plan.file, [{ path: ['source', 'watch'], message: 'watch mode needs a save step or a ledger path, to remember what it has processed' }]);
  }
  const refs = watchFolder({ ...w, dir }, signal, {
    onReady: () => emit({ type: 'log', level: 'info', message: `watching ${dir}` }),
    onWarning: (message) => emit({ type: 'log', level: 'warn', message }),
  });
  return { refs, watch: true, root: dir, ledgerFile };
}

/** A folder the source lists, with the pipeline path naming it and whether it lists subfolders. */
export interface Listed {
  readonly path: readonly (string | number)[];
  readonly query: FolderQuery;
  readonly watch: boolean;
}

/** The folders a plan's source lists: one resolution, shared by the run and by its start-up checks. */
export function sourceFolders(plan: Plan): Listed[] {
  const { source } = plan.definition;
  if ('files' in source) {
    const path = typeof source.files === 'string' ? ['source', 'files'] : ['source', 'files', 'dir'];
    return [{ path, query: folderQuery(source.files, plan.baseDir), watch: false }];
  }
  if ('pairs' in source) {
    const p = source.pairs;
    return (['images', 'labels'] as const).map((key) => ({
      path: ['source', 'pairs', key],
      query: folderQuery(p.pattern ? { dir: p[key], pattern: p.pattern } : p[key], plan.baseDir),
      watch: false,
    }));
  }
  const w = typeof source.watch === 'string' ? { dir: source.watch } : source.watch;
  const path = typeof source.watch === 'string' ? ['source', 'watch'] : ['source', 'watch', 'dir'];
  return [{ path, query: { ...w, dir: resolve(plan.baseDir, w.dir) }, watch: true }];
}
