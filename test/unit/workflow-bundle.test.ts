import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prebuiltWorkflowBundle } from '../../src/workflow-bundle';

describe('the worker loads the workflow bundle `npm run build` wrote, unless a later compile made it stale', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-spike-bundle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const files = () => ({ bundle: join(dir, 'workflow-bundle.js'), workflows: join(dir, 'index.js') });

  test('a bundle written after the compiled workflows is used', () => {
    const { bundle, workflows } = files();
    writeFileSync(workflows, '');
    writeFileSync(bundle, '');
    utimesSync(workflows, 1_000, 1_000);
    utimesSync(bundle, 1_001, 1_001);
    expect(prebuiltWorkflowBundle(bundle, workflows)).toEqual({ codePath: bundle });
  });

  test('a bundle older than the compiled workflows is not (the worker bundles anew)', () => {
    const { bundle, workflows } = files();
    writeFileSync(workflows, '');
    writeFileSync(bundle, '');
    utimesSync(bundle, 1_000, 1_000);
    utimesSync(workflows, 1_001, 1_001);
    expect(prebuiltWorkflowBundle(bundle, workflows)).toBeUndefined();
  });

  test('no bundle (running from sources), or no compiled workflows: none', () => {
    const { bundle, workflows } = files();
    expect(prebuiltWorkflowBundle(bundle, workflows)).toBeUndefined();
    writeFileSync(bundle, '');
    expect(prebuiltWorkflowBundle(bundle, workflows)).toBeUndefined();
  });

  test('from sources, as tests run the worker, there is no prebuilt bundle beside the code', () => {
    expect(prebuiltWorkflowBundle()).toBeUndefined();
  });

  test('`npm run build` leaves a fresh bundle beside the compiled worker, which `audit-spike worker` then loads', () => {
    const compiled = require(join(__dirname, '..', '..', 'dist', 'src', 'workflow-bundle.js')) as typeof import('../../src/workflow-bundle');
    expect(compiled.prebuiltWorkflowBundle()).toEqual({ codePath: compiled.PREBUILT_BUNDLE_FILE });
  });

  test('a stale bundle beside compiled code: webpack runs in a child process, never in the worker\'s, and the code comes back', () => {
    const { bundle, workflows } = files();
    writeFileSync(workflows, '');
    writeFileSync(bundle, '');
    utimesSync(bundle, 1_000, 1_000);
    utimesSync(workflows, 1_001, 1_001);
    // A plain Node process loading the compiled module, as `audit-spike worker` does (Jest's module registry would hide
    // what it loads): how many of webpack's own modules it loaded tells whether webpack ran in it.
    const probe = `
      const m = require(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'src', 'workflow-bundle.js'))});
      m.workflowBundleFor(${JSON.stringify(bundle)}, ${JSON.stringify(workflows)}).then(({ bundle, source }) => {
        const webpackModules = Object.keys(require.cache).filter((file) => /[\\\\/]node_modules[\\\\/]webpack[\\\\/]/.test(file)).length;
        console.log(JSON.stringify({ source, codeLength: bundle.code ? bundle.code.length : 0, scheduledRun: /auditSpikeWorkflow/.test(bundle.code || ''), webpackModules }));
      });`;
    const report = JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 120_000 }).trim().split('\n').pop()!);
    expect(report.source).toMatch(/^bundled in a child process \(.*is older than the compiled workflows/);
    expect(report.codeLength).toBeGreaterThan(100_000);
    expect(report.scheduledRun).toBe(true);
    // Loading @temporalio/worker requires webpack's index lazily (2 modules); running it loads hundreds.
    expect(report.webpackModules).toBeLessThan(10);
  }, 150_000);
});
