import { parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike dev [--config FILE]

The local stack in one process, the same as \`npm start\`: a Temporal dev server (history in .data/temporal.sqlite,
web UI on :8233), the Datadog and PagerDuty simulators seeded with a sample day, the worker and the Schedule, and
one run triggered at once. Ctrl-C stops everything. With DD_API_KEY/DD_APP_KEY set it reads the real Audit Trail;
with the PagerDuty secret set it pages the real PagerDuty; with TEMPORAL_ADDRESS set it uses that server.

Flags:
  --config FILE   YAML or JSON config (default: $AUDIT_SPIKE_CONFIG, else the built-in defaults)

Example:
  audit-spike dev --config examples/audit-spike.yaml`;

export const devCommand: CliCommand = {
  name: 'dev',
  summary: 'the local stack (same as npm start)',
  help: HELP,
  async run(args) {
    const { values } = parseFlags(args, { config: { type: 'string' } });
    const { runDevStack } = await import('../../sim/dev-stack');
    await runDevStack(values.config !== undefined ? ['--config', values.config] : []);
    return 0;
  },
};
