/**
 * `unetflow export MODEL_DIR --bioimageio OUT --test-image FILE`: writes a model folder as
 * a bioimage.io package (src/model/bioimageio/export.ts), a folder or, when OUT ends in
 * `.zip`, a zip. Exit code 0 when written, 2 when the model, its card, the test image or
 * ONNX Runtime is missing or wrong.
 */
import { messageOf } from '../errors.js';
import { useBackend } from '../model/engines/choice.js';
import { exportPackage } from '../model/bioimageio/export.js';
import type { Output } from './check-model.js';

export interface ExportFlags {
  bioimageio: string;
  testImage: string;
}

export async function exportCommand(modelDir: string, flags: ExportFlags, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  try {
    // The weights are read into tfjs tensors. wasm rather than tfjs's default cpu backend,
    // whose first use prints tfjs's "install our node backend" banner to the user.
    await useBackend('wasm');
    const { files, rdf } = await exportPackage(modelDir, flags.bioimageio, { testImage: flags.testImage });
    const bytes = [...files.values()].reduce((n, f) => n + f.length, 0);
    out.write(`${flags.bioimageio}: bioimage.io package of ${modelDir} (format ${rdf.format_version}, ${files.size} files, ${(bytes / 2 ** 20).toFixed(1)} MiB): ${[...files.keys()].join(', ')}\n`);
    out.write(`check it with: unetflow check-model ${flags.bioimageio}\n`);
    return 0;
  } catch (error) {
    err.write(`export: ${messageOf(error)}\n`);
    if (process.env.UNETFLOW_DEBUG) err.write(`${(error as Error).stack ?? ''}\n`);
    return 2;
  }
}
