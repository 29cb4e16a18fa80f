/**
 * Whether a test may use an optional package, decided apart from the code under test
 * (src/model/engines/optional.ts), so that a loader that wrongly reports a package missing
 * fails the tests instead of skipping them: the package must resolve from here, and
 * UNETFLOW_WITHOUT must not name it.
 */
import { existsSync, readFileSync } from 'node:fs';

/** Why `name` cannot be used in this run, or undefined when it can. */
export function unavailable(name: string): string | undefined {
  const without = (process.env.UNETFLOW_WITHOUT ?? '').split(',').map((s) => s.trim());
  if (without.includes(name)) return `${name} disabled by UNETFLOW_WITHOUT`;
  try {
    import.meta.resolve(name);
    return undefined;
  } catch {
    return `${name} not installed`;
  }
}

/** node:test's `skip` option for a test that needs `name`: the reason shows as `# SKIP <reason>`. */
export function needs(name: string): { skip: string | false } {
  return { skip: unavailable(name) ?? false };
}

/** Where Mesa installs lavapipe's Vulkan driver manifest (Debian's mesa-vulkan-drivers). */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

/**
 * Whether this machine has a lavapipe that Dawn accepts: Mesa 25's manifest declares
 * Vulkan 1.4; older ones declare less, and bookworm's Mesa 22 is refused by Dawn. Where
 * it is installed — CI's .ci/run installs it — a WebGPU test must find an adapter.
 */
export function lavapipeInstalled(icd = LAVAPIPE_ICD): boolean {
  if (!existsSync(icd)) return false;
  const version = (JSON.parse(readFileSync(icd, 'utf8')) as { ICD?: { api_version?: string } }).ICD?.api_version ?? '0.0';
  const [major, minor] = version.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 4);
}

/**
 * node:test's `skip` option for a test that needs a WebGPU adapter, decided with Dawn
 * directly (not through src/model/engines/webgpu.ts): it skips, saying why, only where the
 * packages are missing, or where Dawn finds no adapter and no usable lavapipe is
 * installed. Where lavapipe is installed the test runs, so that a lost adapter fails
 * it instead of skipping the GPU path silently.
 */
export async function needsWebGpu(): Promise<{ skip: string | false }> {
  const missing = unavailable('webgpu') ?? unavailable('@tensorflow/tfjs-backend-webgpu');
  if (missing) return { skip: missing };
  if (lavapipeInstalled()) return { skip: false };
  const { create } = (await import('webgpu')) as { create(options: string[]): { requestAdapter(): Promise<unknown> } };
  if (await create([]).requestAdapter()) return { skip: false };
  return { skip: `no WebGPU adapter here (no GPU driver, and no Mesa >= 25 lavapipe at ${LAVAPIPE_ICD}: .ci/run installs it)` };
}
