/**
 * Whether a test may use an optional package, decided apart from the code under test
 * (src/model/optional.ts), so that a loader that wrongly reports a package missing
 * fails the tests instead of skipping them: the package must resolve from here, and
 * UNETFLOW_WITHOUT must not name it.
 */

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
