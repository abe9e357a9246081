import type { BacktestReport } from '../../src/replay/backtest';
import { mergeSuppressed } from '../../src/detection/suppressed-bursts';
import type { Explanation } from '../../src/replay/explain';
import { ACTIONS, NOISE, auditEvent, burst, type AuditEventJson } from '../../sim/audit-events';
import { SERVICE_ACCOUNT_ACTOR_FIELDS } from '../support/settings';
import { backfilledScheduleYaml, backfillLiveRuns, lastHalfHourOfTicks } from '../support/backfill';
import { runBuiltCli } from '../support/cli';
import { withStackAndWorker, type Stack } from '../support/stack';

const MIN = 60_000;

const mallory = { id: 'u-bad', email: 'Mallory@Example.com', name: 'Mallory' };
const bob = { id: 'u-bob', email: 'bob@example.com', name: 'Bob' };
const carol = { id: 'u-carol', email: 'carol@example.com' };
const ops = { id: 'u-ops', email: 'ops@example.com', name: 'Ops on-call' };
const dana = { id: 'u-dana', email: 'dana@example.com' };
const terraform = { id: 'u-tf', email: 'terraform@example.com', name: 'Terraform' };
const deployBot = { id: 'sa-deploy', email: 'deploy@service.example.com', name: 'Deploy bot' };
const staff = Array.from({ length: 4 }, (_, i) => ({ id: `u${i}`, email: `user${i}@example.com` }));

/**
 * Half an hour of audit trail, laid so that bursts straddle the runs that read them: a burst opened by one run and
 * escalated by the next, a burst completed only in the following run, a near miss split across two runs, a service
 * account, an allowlisted actor, a burst inside a maintenance window, an unattributable event, and one actor paged twice.
 */
function seededEvents(t1: number): AuditEventJson[] {
  const noise = Array.from({ length: 300 }, (_, i) => auditEvent(t1 - 15 * MIN + Math.floor((39 * MIN * i) / 300), staff[i % staff.length], NOISE[i % NOISE.length]));
  return [
    ...noise,
    auditEvent(t1 - 10 * MIN, ops, ACTIONS.monitorDelete),
    ...burst(mallory, ACTIONS.roleGrant, 11, t1 + 2.5 * MIN, 6 * MIN),
    ...burst(mallory, ACTIONS.apiKeyCreate, 3, t1 + 6 * MIN, 2 * MIN),
    // A near miss: two grants of an ordinary role (a grant of the Datadog Admin Role would page at once).
    ...burst(carol, { ...ACTIONS.roleGrant, assetName: 'Datadog Standard Role' }, 2, t1 + 4.5 * MIN, MIN),
    ...burst(deployBot, ACTIONS.serviceAccountAppKeyCreate, 3, t1 + 11 * MIN, MIN),
    ...burst(bob, ACTIONS.apiKeyCreate, 3, t1 + 13.5 * MIN, 2 * MIN),
    ...burst(terraform, ACTIONS.monitorDelete, 6, t1 + 16 * MIN, 2 * MIN),
    auditEvent(t1 + 21 * MIN, {}, ACTIONS.securityRuleDelete),
    auditEvent(t1 + 22 * MIN, ops, ACTIONS.monitorDelete),
    ...burst(dana, ACTIONS.userInvite, 5, t1 + 23 * MIN, MIN),
  ];
}

function configYaml(stack: Stack, t1: number): string {
  return [
    ...backfilledScheduleYaml(stack),
    'detection:',
    ...SERVICE_ACCOUNT_ACTOR_FIELDS,
    '  rules:',
    '    - { id: any_sensitive, combine: ["*"], window: 10m, tiers: [{ count: 12, severity: error }] }',
    '  suppress:',
    '    actors: [terraform@example.com]',
    '    maintenanceWindows:',
    `      - { from: ${new Date(t1 + 20 * MIN).toISOString()}, to: ${new Date(t1 + 25 * MIN).toISOString()}, actors: [dana@example.com], reason: access review }`,
    '',
  ].join('\n');
}

describe('backtest equals the live schedule on the same events', () => {
  let stack: Stack;

  withStackAndWorker((started) => (stack = started));

  test('run by run, the backtest predicts exactly what the Schedule paged', async () => {
    const { t1, t2 } = lastHalfHourOfTicks();
    stack.datadog.addEvents(seededEvents(t1));
    const yaml = configYaml(stack, t1);
    const { live, configFile } = await backfillLiveRuns(stack, yaml, { t1, t2 }, { file: 'backtest.yaml', timeoutMs: 45_000 });

    const requestsBefore = stack.pagerduty.requests.length;
    const cli = await runBuiltCli(['backtest', '--from', new Date(t1).toISOString(), '--to', new Date(t2).toISOString(), '--config', configFile, '--json'], {
      DD_API_KEY: stack.workerEnv.DD_API_KEY,
      DD_APP_KEY: stack.workerEnv.DD_APP_KEY,
    });
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    const backtest = JSON.parse(cli.stdout) as BacktestReport;
    expect(stack.pagerduty.requests.length).toBe(requestsBefore);
    expect(cli.stdout).not.toContain(stack.workerEnv.DD_API_KEY);

    // The same runs: the Schedule's backfill ticks are the backtest's, each reading the same window.
    expect(backtest.runs.map((run) => [run.scheduledAt, run.window])).toEqual(live.map((run) => [run.scheduledAt, run.window]));
    expect(live[0].startedFrom).toBe('lookback');
    expect(live.slice(1).every((run) => run.startedFrom === 'previous-run')).toBe(true);

    // The same actions, run by run (trigger, then update as a burst grows across runs), and the same suppressions.
    const liveActions = live.map((run) => run.incidents.map(({ kind, actor, severity, dedupKey, counts }) => ({ kind, actor, severity, dedupKey, counts })));
    const backtestActions = backtest.runs.map((run) => run.actions.map(({ kind, actor, severity, dedupKey, counts }) => ({ kind, actor, severity, dedupKey, counts })));
    expect(backtestActions).toEqual(liveActions);
    // A suppressed burst is reported by each run that saw it grow (#26): the backtest merges them by dedup key, last wins.
    expect(backtest.suppressed).toEqual(mergeSuppressed([], live.flatMap((run) => run.suppressed)));

    // The same incidents as the live runs reported them: dedup keys, actors, final severities and counts. PagerDuty
    // itself keeps the counts of the burst's first trigger (a same-severity update is not re-sent in Events mode), so
    // the current counts are the runs' last trigger/update record of each dedup key.
    const reported = new Map<string, { dedupKey: string; actor: string; severity: string; counts: Record<string, number> }>();
    for (const record of live.flatMap((run) => run.incidents)) {
      if (record.kind === 'trigger' || record.kind === 'update') reported.set(record.dedupKey, { dedupKey: record.dedupKey, actor: record.actor, severity: record.severity, counts: record.counts });
    }
    const predicted = backtest.incidents.map(({ dedupKey, actor, severity, counts }) => ({ dedupKey, actor, severity, counts }));
    const byKey = (a: { dedupKey: string }, b: { dedupKey: string }) => a.dedupKey.localeCompare(b.dedupKey);
    expect(predicted.sort(byKey)).toEqual([...reported.values()].sort(byKey));

    // PagerDuty holds exactly one incident per burst, at the burst's severity, with the counts of the last event actually
    // sent to it (the trigger, or an update re-sent because the severity rose; `outcome` says which were sent).
    const delivered = new Map<string, Record<string, number>>();
    for (const record of live.flatMap((run) => run.incidents)) {
      if ((record.kind === 'trigger' || record.kind === 'update') && (record.outcome?.result === 'opened' || record.outcome?.result === 'updated')) delivered.set(record.dedupKey, record.counts);
    }
    const paged = stack.pagerduty.incidents.map((incident) => {
      const last = incident.alerts.filter((a) => a.event_action === 'trigger').pop()!.payload as { custom_details: { actor: string; counts: Record<string, number> } };
      return { dedupKey: incident.dedupKey, actor: last.custom_details.actor, severity: incident.severity, counts: last.custom_details.counts };
    });
    expect(paged.sort(byKey)).toEqual(predicted.map((p) => ({ ...p, counts: delivered.get(p.dedupKey) })).sort(byKey));

    // And what that is: the scenario's bursts, each once, at its severity.
    expect(predicted.map((i) => `${i.actor} ${i.severity}`).sort()).toEqual([
      'bob@example.com error',
      'mallory@example.com critical',
      'ops@example.com warning',
      'ops@example.com warning',
      'service_account:sa-deploy error',
      'unknown error',
    ]);
    const malloryRuns = backtest.runs.filter((run) => run.actions.some((a) => a.actor === 'mallory@example.com'));
    expect(malloryRuns.map((run) => run.actions.find((a) => a.actor === 'mallory@example.com')!.kind)).toEqual(['trigger', 'update']);
    expect(backtest.suppressed.map((s) => [s.actor, s.reason.split(' ')[0]]).sort()).toEqual([['dana@example.com', 'maintenance'], ['terraform@example.com', 'actor']]);

    // #26 --explain ACTOR on the same range: a paged actor, the near miss (2 role grants of 3), a suppressed actor.
    const explain = async (actor: string) => {
      const run = await runBuiltCli(['backtest', '--from', new Date(t1).toISOString(), '--to', new Date(t2).toISOString(), '--config', configFile, '--json', '--explain', actor], {
        DD_API_KEY: stack.workerEnv.DD_API_KEY,
        DD_APP_KEY: stack.workerEnv.DD_APP_KEY,
      });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      return (JSON.parse(run.stdout) as BacktestReport & { explain: Explanation }).explain;
    };
    const [why, near, quiet] = await Promise.all([explain('Mallory@Example.com'), explain('carol@example.com'), explain('terraform@example.com')]);
    expect(why).toMatchObject({ actor: 'mallory@example.com', verdict: 'paged', incidents: [{ severity: 'critical' }] });
    expect(why.rules.find((r) => r.rule === 'role_grant')).toMatchObject({ best: { count: 11 }, reached: 'critical' });
    // The runs that read her events are the live runs that paged and updated her burst.
    expect(why.runs.filter((r) => r.events > 0).map((r) => r.scheduledAt)).toEqual(malloryRuns.map((run) => run.scheduledAt));
    expect(near).toMatchObject({ verdict: 'not paged', because: 'not paged: no rule reached its threshold; closest: role_grant with 2 of 3 in 10m' });
    expect(near.runs.filter((r) => r.events > 0).map((r) => r.events)).toEqual([2]);
    expect(near.rules[0]).toMatchObject({ rule: 'role_grant', best: { count: 2 }, tiers: [{ count: 3, reached: false }, { count: 10, reached: false }] });
    expect(quiet).toMatchObject({ verdict: 'suppressed', suppressions: [{ reason: 'actor allowlisted (terraform@example.com)', events: 6 }] });
  }, 90_000);
});
