import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * Where `npm run build` writes the workflows' bundle: dist/workflow-bundle.js beside the compiled code. The worker
 * loads it instead of running webpack at start (#22): bundling in the worker's own process keeps about 30 MB of heap
 * (webpack and its modules) and 60 MB of RSS for the worker's life, in a container whose limit the scans need, and
 * takes 3 s of each start. Running from sources (tests, ts-node) there is no such file, and the worker bundles as before.
 */
export const PREBUILT_BUNDLE_FILE = join(__dirname, '..', 'workflow-bundle.js');
/** The compiled workflows the bundle is made from (tsc writes them anew on every build). */
const COMPILED_WORKFLOWS = join(__dirname, 'workflows', 'index.js');

/** Bundles the workflows with webpack's chatter kept to warnings and errors. */
export function bundleWorkflows(): ReturnType<typeof bundleWorkflowCode> {
  const quiet = () => undefined;
  const loud = (message: string) => console.error(`workflow bundle: ${message}`);
  return bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: loud, error: loud } });
}

/**
 * The bundle `npm run build` wrote, when it is there and was made from the compiled workflows beside it: a `tsc` run
 * after it (which rewrites every compiled file) makes it stale, and the worker then bundles for itself.
 */
export function prebuiltWorkflowBundle(bundleFile = PREBUILT_BUNDLE_FILE, compiledWorkflows = COMPILED_WORKFLOWS): { codePath: string } | undefined {
  if (!existsSync(bundleFile) || !existsSync(compiledWorkflows)) return undefined;
  return statSync(bundleFile).mtimeMs >= statSync(compiledWorkflows).mtimeMs ? { codePath: bundleFile } : undefined;
}

/** The last step of `npm run build`: bundles the compiled workflows into PREBUILT_BUNDLE_FILE. */
export async function writePrebuiltWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflows();
  writeFileSync(PREBUILT_BUNDLE_FILE, code);
}

if (require.main === module) {
  writePrebuiltWorkflowBundle().catch((error: unknown) => {
    console.error(`workflow bundle: ${(error as Error).message}`);
    process.exit(1);
  });
}
