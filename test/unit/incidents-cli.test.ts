import { runCliInProcess } from '../support/cli';

/** Arguments are checked before Temporal is asked anything: a mistake is exit 2 with what to write instead. */
describe('audit-spike incidents: its flags', () => {
  test.each([
    [['--since', '24'], '--since must be a whole number of minutes, hours or days, such as 30m, 24h or 7d (got "24")'],
    [['--since', '1.5h'], '--since must be a whole number of minutes, hours or days, such as 30m, 24h or 7d (got "1.5h")'],
    [['--since', '2w'], '--since must be a whole number of minutes, hours or days, such as 30m, 24h or 7d (got "2w")'],
    [['--since', '0m'], '--since must be longer than 0 (e.g. 30m) (got "0m")'],
    [['--since', '401d'], '--since must be at most 400d'],
    [['--org', 'acme" OR AuditSpikePaged = false'], '--org must be an org name as the config writes it: letters, digits, _ . or -'],
    [['--json', '--csv'], 'choose one of --json and --csv'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('%j is a usage error naming the fix', async (args, message) => {
    const run = await runCliInProcess(['incidents', ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`audit-spike incidents: ${message}`);
    expect(run.stderr).toContain('Run `audit-spike incidents --help`');
  });
});
