/**
 * The one place that imports unetflow's optional packages (ONNX Runtime, tfjs-node,
 * tfjs-node-gpu, and for WebGPU Dawn's `webgpu` with tfjs-backend-webgpu). npm leaves
 * them out silently where they cannot install, so their absence is an answer callers
 * fall back on, not a failure.
 *
 * `UNETFLOW_WITHOUT` (comma-separated package names) makes them read as absent even
 * where they are installed, so that the fallbacks can be run and tested on any
 * machine; a name that is not one of the optional packages is refused, naming them.
 */

export const optionalPackages = [
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'webgpu',
  '@tensorflow/tfjs-backend-webgpu',
] as const;
export type OptionalPackage = (typeof optionalPackages)[number];

export const WITHOUT_VARIABLE = 'UNETFLOW_WITHOUT';

/** An optional package that is not installed, or is disabled by UNETFLOW_WITHOUT. */
export class PackageMissing extends Error {
  override readonly name = 'PackageMissing';

  constructor(
    readonly packageName: OptionalPackage,
    /** Why, short enough for a backend line: `not installed` or `not installed (UNETFLOW_WITHOUT)`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${packageName}: ${reason}`, options);
  }
}

/** The packages UNETFLOW_WITHOUT disables; throws naming the valid names for any other. */
export function withoutPackages(env: NodeJS.ProcessEnv = process.env): Set<OptionalPackage> {
  const names = (env[WITHOUT_VARIABLE] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(optionalPackages as readonly string[]).includes(name)) {
      throw new Error(`${WITHOUT_VARIABLE}: '${name}' is not an optional package; expected some of ${optionalPackages.join(', ')}`);
    }
  }
  return new Set(names as OptionalPackage[]);
}

/**
 * Imports `name`, or throws PackageMissing when it is disabled or cannot be found.
 * Other failures (found but broken: a missing native library) pass through, so that
 * they are reported as they are.
 */
export async function importOptional(name: OptionalPackage, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  if (withoutPackages(env).has(name)) throw new PackageMissing(name, `not installed (${WITHOUT_VARIABLE})`);
  try {
    // Resolving first tells "not there" from "there but its own import fails".
    import.meta.resolve(name);
  } catch (error) {
    throw new PackageMissing(name, 'not installed', { cause: error });
  }
  return import(name);
}
