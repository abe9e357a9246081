import { fork } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';

/**
 * Where `npm run build` writes the workflows' bundle: dist/workflow-bundle.js beside the compiled code. The worker
 * loads it instead of running webpack at start (#22): bundling in the worker's own process keeps about 30 MB of heap
 * (webpack and its modules) and 60 MB of RSS for the worker's life, in a container whose limit the scans need, and
 * takes 3 s of each start. Running from sources (tests, ts-node) there is no such file, and the worker bundles as before.
 * When the file is stale or missing beside compiled code, the worker bundles in a child process (`workflowBundleFor`).
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
 * after it (which rewrites every compiled file) makes it stale, and the worker then bundles for itself (in a child process: `workflowBundleFor`).
 */
export function prebuiltWorkflowBundle(bundleFile = PREBUILT_BUNDLE_FILE, compiledWorkflows = COMPILED_WORKFLOWS): { codePath: string } | undefined {
  if (!existsSync(bundleFile) || !existsSync(compiledWorkflows)) return undefined;
  return statSync(bundleFile).mtimeMs >= statSync(compiledWorkflows).mtimeMs ? { codePath: bundleFile } : undefined;
}

/** The argument that makes this module, run as a child process, send the bundle's code to its parent. */
const CHILD_FLAG = '--send-to-parent';

/**
 * The workflow bundle of a worker that was not handed one, and how it was had (for the worker's start-up line):
 * - the prebuilt file when fresh;
 * - compiled code without it (a `tsc` after the build, an image built without `npm run build`): webpack runs in a
 *   short-lived child process and only the code comes back, so the worker's memory is the same either way. Bundling
 *   in the worker's own process kept 30-40 MB of heap and 50-60 MB of RSS for its life: measured, a worker started so in a
 *   512 MB container with four busy orgs was killed by the kernel (#22);
 * - from TypeScript sources (ts-node), where a child could not load this file: in this process, as before.
 */
export async function workflowBundleFor(
  bundleFile = PREBUILT_BUNDLE_FILE, compiledWorkflows = COMPILED_WORKFLOWS, moduleFile = __filename,
): Promise<{ bundle: NonNullable<WorkerOptions['workflowBundle']>; source: string }> {
  const prebuilt = prebuiltWorkflowBundle(bundleFile, compiledWorkflows);
  if (prebuilt) return { bundle: prebuilt, source: bundleFile };
  if (moduleFile.endsWith('.ts')) return { bundle: await bundleWorkflows(), source: 'bundled from sources in this process' };
  const why = existsSync(bundleFile) ? `${bundleFile} is older than the compiled workflows` : `no ${bundleFile}`;
  return { bundle: { code: await bundleInChildProcess(moduleFile) }, source: `bundled in a child process (${why}; \`npm run build\` writes it)` };
}

/** Runs webpack in a child process (this module, compiled) and returns the bundle's code. */
export function bundleInChildProcess(moduleFile = __filename): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = fork(moduleFile, [CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let code: string | undefined;
    child.on('message', (message: { code?: unknown }) => {
      if (typeof message?.code === 'string') code = message.code;
    });
    child.on('error', reject);
    // 'close', not 'exit': it comes once the IPC channel is closed too, so after every message the child sent.
    child.on('close', (exitCode, signal) => {
      if (code !== undefined) resolve(code);
      else reject(new Error(`workflow bundle: the child process bundling the workflows exited (${signal ?? `code ${exitCode}`}) without a bundle`));
    });
  });
}

/** The last step of `npm run build`: bundles the compiled workflows into PREBUILT_BUNDLE_FILE. */
export async function writePrebuiltWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflows();
  writeFileSync(PREBUILT_BUNDLE_FILE, code);
}

if (require.main === module) {
  const send = process.send?.bind(process);
  const done = !process.argv.includes(CHILD_FLAG)
    ? writePrebuiltWorkflowBundle()
    : send
      ? bundleWorkflows().then(({ code }) => new Promise<void>((resolve, reject) => send({ code }, undefined, undefined, (error: Error | null) => (error ? reject(error) : resolve()))))
      : Promise.reject(new Error(`${CHILD_FLAG} is for the worker's own child process (it needs an IPC channel to send the bundle on)`));
  done.then(() => process.disconnect?.()).catch((error: unknown) => {
    console.error(`workflow bundle: ${(error as Error).message}`);
    process.exit(1);
  });
}
