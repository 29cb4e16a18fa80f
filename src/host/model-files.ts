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
