/**
 * The import rules `npm test` enforces (scripts/run-tests.sh runs `npm run lint:deps`).
 * Type-only imports count (tsPreCompilationDeps), so a cycle through a type fails too.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: move the shared piece into a module both import (see src/cli/flags.ts, src/replay/incidents.ts).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'detection-is-pure',
      severity: 'error',
      comment: 'src/detection is the deterministic core: no I/O, no Temporal, nothing from the shell around it.',
      from: { path: '^src/detection/' },
      to: { path: ['^src/(activities|workflows|cli|replay|config|codec)/', '^src/[^/]+\\.ts$', '@temporalio', '^(node:)?(fs|net|http|https|child_process|dgram|tls)$'] },
    },
    {
      name: 'workflows-do-no-io',
      severity: 'error',
      comment: 'Workflow code runs in the sandbox: it may import detection, types and @temporalio/workflow, never activities\' I/O.',
      from: { path: '^src/workflows/' },
      to: { path: ['^src/(activities|cli|replay|codec)/', '^(node:)?(fs|net|http|https|child_process|dgram|tls)$', '@datadog', '@pagerduty'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
