/**
 * `unetflow check-model PATH`: tests a bioimage.io package (folder or zip) the way
 * bioimageio.core's test does (src/model/bioimageio/check.ts) and prints one line per
 * check; a unetflow model folder gets store.ts's file and checksum check. Exit code 0
 * when every check passes, 1 when one fails, 2 when the package cannot be read or run.
 */
import { messageOf } from '../errors.js';
import { checkPackage } from '../model/bioimageio/check.js';
import { isPackage, openPackage } from '../model/bioimageio/package.js';
import { checkModelDir } from '../model/store.js';

export interface Output {
  write(text: string): unknown;
}

export async function checkModelCommand(path: string, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  try {
    if (!isPackage(path)) {
      await checkModelDir(path);
      out.write(`${path}: a unetflow model folder; its files, sizes and checksums are right\n`);
      return 0;
    }
    const pkg = openPackage(path);
    const report = await checkPackage(pkg);
    out.write(`${pkg.where}/${pkg.descriptionName}: ${pkg.rdf.name} (format ${pkg.rdf.format_version})\n`);
    for (const line of report.lines) out.write(`  ${line.ok ? (line.warn ? '!' : '✓') : '✗'} ${line.message}\n`);
    out.write(report.ok ? `${path}: passed\n` : `${path}: FAILED\n`);
    return report.ok ? 0 : 1;
  } catch (error) {
    err.write(`${messageOf(error)}\n`);
    return 2;
  }
}
