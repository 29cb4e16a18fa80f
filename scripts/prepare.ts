/**
 * npm's `prepare`: `npm ci` / `npm install` in a checkout, and `npm install <git url>`
 * (which installs the dev dependencies first), build dist/ with tsconfig.build.json:
 * `unetflow` and `unetflow/operators` resolve to it. Under `--omit=dev` there is no
 * TypeScript to build with; that install is not failed for it, since the `unetflow`
 * command runs from the sources in a checkout, but says what is missing.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

let tsc: string;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write(
    'unetflow prepare: TypeScript is not installed (--omit=dev?), so dist/ is not built: the unetflow command works, ' +
      "but `import ... from 'unetflow'` needs `npm run build` after an install with dev dependencies\n",
  );
  process.exit(0);
}
const { status, error } = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (error) throw new Error(`unetflow prepare: cannot run ${tsc}`, { cause: error });
if (status !== 0) process.exit(status ?? 1);
// The web app (dist/web, scripts/build-web.ts), which `unetflow app` serves; esbuild is a dev dependency too.
const { buildWeb } = await import('./build-web.js');
await buildWeb(undefined, (line) => process.stderr.write(`unetflow prepare: ${line}\n`));
