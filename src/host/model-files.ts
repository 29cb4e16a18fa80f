/**
 * Where a model's files come from: its folder on disk (Node), or in a page the folder's
 * handle or the URL the web app serves the shipped model under. The files are those
 * src/model/store.ts writes and checks: model.json, metadata.json, weights.<hash>.bin.
 */
export interface ModelFiles {
  /** How messages name the model, e.g. its folder. */
  readonly name: string;
  /** A file of the model by its name in the model's folder, e.g. `model.json`; throws naming it when it is missing. */
  read(file: string): Promise<Uint8Array>;
}

/** A model file as JSON, the error naming the file when it is not. */
export async function readModelJson(files: ModelFiles, file: string): Promise<unknown> {
  const bytes = await files.read(file);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`${files.name}/${file}: not JSON (${(error as Error).message})`, { cause: error });
  }
}

/**
 * What steps read of model folders while a pipeline is compiled, synchronously, so that
 * `validate` finds a wrong model path before any file is taken (operators/geometry.ts):
 * on disk in Node; in a page, what the runner read before compiling.
 */
export interface ModelCatalog {
  /** metadata.json of the model folder `dir`, as text; throws (with `code: 'ENOENT'` when it is not there). */
  metadataText(dir: string): string;
  /** Tensor bytes one tile may hold on the backend `choice`, for `tile: { size: auto }` (engines/choice.ts's plannedBudget in Node). */
  plannedBudget(choice: string, weightBytes: number): number;
}
