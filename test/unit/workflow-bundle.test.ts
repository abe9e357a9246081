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

  test('a bundle older than the compiled workflows is not (the worker bundles for itself)', () => {
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
});
