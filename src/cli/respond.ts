import { hostname, userInfo } from 'node:os';
import { loadFleet } from '../config/fleet';
import type { Client } from '@temporalio/client';
import type { PlanView, planQuery as planQueryType } from '../response/messages';
import { UsageError, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike respond INCIDENT [--approve STEP ...|--all] [--undo] [--by NAME] [--config FILE] [--json]

Shows or acts on the containment plan of one incident (see "Contain on approval" in the README). INCIDENT is the
dedup key (audit-spike-…, in the page's details) or the PagerDuty incident id, as \`npm start\` prints it: the open
plans in Temporal know their incident's id, so no config is needed; with a --config whose response section (or REST
target) has a PagerDuty token, PagerDuty is asked instead (and an approval of an incident a person resolved is refused).
Without --approve, --all or --undo it prints the plan and its state; after --undo, who undid it and when, and what stays
revoked.

Flags:
  --approve STEP    approve one step (repeatable): disable-user, api-key:<id>, app-key:<id>
  --all             approve every step of the plan
  --undo            re-enable the user the plan disabled (revoked keys cannot come back)
  --by NAME         who approves (default: your login@host)
  --config FILE     config whose PagerDuty token looks up an incident id in PagerDuty (default: look it up in Temporal)
  --json            print the result as JSON

Temporal from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables or a profile.
Exit status: 0 done, 1 refused (expired, resolved by a person, nothing to do) or no plan, 2 bad arguments.

Example:
  audit-spike respond audit-spike-3f9c0a12b4d5e6f7 --all
  audit-spike respond Q1ABCDEF --approve disable-user
  audit-spike respond Q1ABCDEF --all --config audit-spike.yaml
  audit-spike respond audit-spike-3f9c0a12b4d5e6f7 --undo`;

function defaultApprover(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `cli@${hostname()}`;
  }
}

async function runRespondCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    approve: { type: 'string', multiple: true },
    all: { type: 'boolean', default: false },
    undo: { type: 'boolean', default: false },
    by: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
  }, 1);
  const [incident] = positionals;
  if (!incident) throw new UsageError('name the incident: its dedup key (audit-spike-…) or its PagerDuty incident id');
  const approve = (values.approve as string[] | undefined) ?? [];
  if (values.undo && (values.all || approve.length)) throw new UsageError('--undo cannot be combined with --approve or --all');
  if (values.all && approve.length) throw new UsageError('use either --all or --approve STEP, not both');

  const { responseWorkflowId } = await import('../response/plan');
  const { approveUpdate, undoUpdate, planQuery } = await import('../response/messages');
  const { WorkflowNotFoundError, WorkflowUpdateFailedError } = await import('@temporalio/client');
  let dedupKey = incident;
  const fleet = values.config !== undefined ? loadFleet(values.config) : [];
  const { incidentKeySources, lookupIncident } = await import('../webhooks/incident-key');
  const sources = incidentKeySources(fleet);
  if (!incident.startsWith('audit-spike-') && sources.length > 0) {
    let found: Awaited<ReturnType<typeof lookupIncident>>;
    try {
      found = await lookupIncident(sources, env, incident);
    } catch (error) {
      process.stderr.write(`audit-spike respond: ${(error as Error).message} (set the token, or pass the dedup key)\n`);
      return 1;
    }
    if (!found) {
      process.stderr.write(`audit-spike respond: PagerDuty knows no incident ${incident} (or it has no incident key)\n`);
      return 1;
    }
    if (found.status === 'resolved' && !values.undo && (values.all || approve.length)) {
      process.stderr.write(`audit-spike respond: refused: incident ${incident} is resolved in PagerDuty; the plan of a resolved incident cannot be approved\n`);
      return 1;
    }
    dedupKey = found.key;
  }
  const { connectClient } = await import('../schedule');
  // A refused or unresolvable address is said at once, in one line (main prints it), not after gRPC's retries.
  await (await import('../temporal-connection')).probeTemporal(env);
  const client = await connectClient(env);
  if (!dedupKey.startsWith('audit-spike-')) {
    const found = await dedupKeyOfIncident(client, incident, planQuery).catch(async (error) => {
      await client.connection.close();
      throw error;
    });
    if (!found) {
      await client.connection.close();
      process.stderr.write(`audit-spike respond: no open containment plan names the PagerDuty incident ${incident}; pass its dedup key (audit-spike-…, in the page's details), or a --config with a PagerDuty token to ask PagerDuty\n`);
      return 1;
    }
    dedupKey = found;
  }
  const out = (value: unknown, text: string) => process.stdout.write(`${values.json ? JSON.stringify(value, null, 2) : text}\n`);
  try {
    const handle = client.workflow.getHandle(responseWorkflowId(dedupKey));
    const by = { name: values.by ?? defaultApprover() };
    const at = new Date().toISOString();
    if (values.undo || values.all || approve.length) {
      const report = values.undo
        ? await handle.executeUpdate(undoUpdate, { args: [{ by, via: 'cli', at }] })
        : await handle.executeUpdate(approveUpdate, { args: [{ ...(values.all ? { all: true } : { steps: approve }), by, via: 'cli', at }] });
      out(report, [
        `${report.kind === 'undo' ? 'Undone' : 'Approved'} by ${report.by.name} at ${report.at} (${dedupKey}):`,
        ...report.steps.map((step) => `  [${step.id}] ${step.status}: ${step.detail ?? step.text}`),
        `PagerDuty: ${report.note}`,
      ].join('\n'));
      return report.steps.some((step) => step.status === 'failed') ? 1 : 0;
    }
    const plan = await handle.query(planQuery);
    out(plan, formatPlan(plan));
    return 0;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      process.stderr.write(`audit-spike respond: refused: ${error.cause?.message ?? error.message}\n`);
      return 1;
    }
    // A plan that ended (expired, contained, or its incident resolved by a person) takes no Update but still answers queries.
    const handle = client.workflow.getHandle(responseWorkflowId(dedupKey));
    const ended = await handle.describe().then((d) => (d.status.name === 'RUNNING' ? undefined : handle.query(planQuery)), () => undefined).catch(() => undefined);
    if (ended) {
      process.stderr.write(`audit-spike respond: refused: the plan ended (${ended.state})${ended.resolvedByPerson ? `: the incident was resolved in PagerDuty by a person (${ended.resolvedByPerson})` : ''}; act in Datadog by hand if needed\n`);
      return 1;
    }
    if (error instanceof WorkflowNotFoundError) {
      process.stderr.write(`audit-spike respond: no containment plan for ${dedupKey} (containment is off for its org, or its actor is protected)\n`);
      return 1;
    }
    throw error;
  } finally {
    await client.connection.close();
  }
}

/**
 * The dedup key of the open plan whose PagerDuty incident is `incidentId`: the plans (one workflow each, a few at a
 * time) are asked, newest first. Undefined when none names it.
 */
export async function dedupKeyOfIncident(client: Client, incidentId: string, query: typeof planQueryType): Promise<string | undefined> {
  let asked = 0;
  for await (const workflow of client.workflow.list({ query: `WorkflowType = 'containmentWorkflow' AND ExecutionStatus = 'Running'` })) {
    if (++asked > 200) break;
    const plan = await client.workflow.getHandle(workflow.workflowId, workflow.runId).query(query).catch(() => undefined);
    if (plan?.incidentId === incidentId) return plan.dedupKey;
  }
  return undefined;
}

/** The plan as a person reads it: its state, each step (who approved, who undid and when), what stays revoked. */
export function formatPlan(plan: PlanView): string {
  const stillRevoked = plan.steps.filter((step) => !step.undoable && step.status === 'done');
  const undone = plan.steps.filter((step) => step.status === 'undone');
  return [
    `Containment plan for ${plan.actor} (org ${plan.orgId}, ${plan.dedupKey}${plan.incidentId ? `, PagerDuty ${plan.incidentId}` : ''}): ${plan.state}; approvable until ${plan.expiresAt}`,
    ...plan.steps.map((step) => `  [${step.id}] ${step.status}: ${step.text}${step.detail ? ` — ${step.detail}` : ''}` +
      `${step.approvedBy ? ` (approved by ${step.approvedBy} at ${step.approvedAt})` : ''}${step.undoneBy ? ` (undone by ${step.undoneBy} at ${step.undoneAt})` : ''}`),
    ...undone.map((step) => `Undone: [${step.id}] by ${step.undoneBy ?? 'unknown'} at ${step.undoneAt ?? 'unknown'}`),
    ...(undone.length ? [stillRevoked.length ? `Still revoked (cannot be undone): ${stillRevoked.map((step) => step.id).join(', ')}` : 'Nothing stays revoked.'] : []),
    ...(plan.manual.length ? ['Not undone automatically (a person restores these):', ...plan.manual.map((m) => `  ${m.text}${m.href ? ` ${m.href}` : ''}`)] : []),
    ...plan.notes.map((note) => `Note: ${note}`),
    ...(plan.resolvedByPerson ? [`Resolved by a person: ${plan.resolvedByPerson}`] : []),
    ...(plan.state === 'awaiting approval' ? [`Approve with: audit-spike respond ${plan.incidentId ?? plan.dedupKey} --all`] : []),
    ...(plan.state === 'undone' ? [`Approve again with: audit-spike respond ${plan.incidentId ?? plan.dedupKey} --approve ${undone.map((step) => step.id).join(' --approve ')}`] : []),
  ].join('\n');
}

export const respondCommand: CliCommand = {
  name: 'respond',
  summary: 'show, approve or undo the containment plan of an incident',
  help: HELP,
  run: (args) => runRespondCommand(args),
};
