import { ActivityFailure, ApplicationFailure, allHandlersFinished, condition, log, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AuditSpikeActivities } from '../activities';
import { describeIssues } from '../config/args-schema';
import {
  ApproveRequestSchema, UndoRequestSchema, approveUpdate, incidentOpenedSignal, incidentResolvedSignal, planQuery, undoUpdate,
  type ActionReport, type ApprovalRecord, type Approver, type ApproveRequest, type PlanView, type StepView, type UndoRequest,
} from '../response/messages';
import { ContainmentInputSchema, planLines, type ContainmentInput } from '../response/plan';

/**
 * Contain on approval (#17): one per incident, started when the incident opens. It holds the plan and does nothing until
 * a person approves steps (an Update, from `audit-spike respond` or a signed PagerDuty webhook). Each step is one
 * idempotent activity; who approved and when is kept here and written on the PagerDuty incident (REST mode).
 * It ends at expiry (the config's `response.ttl`), or sooner once nothing is left to approve or undo, or when a person
 * resolved the incident before anything was done. Until expiry, a disabled user can be re-enabled (`undo`).
 */

function stepActivities(requestTimeoutMs: number) {
  // An attempt makes at most three Datadog calls (own identity, read, change), each bounded by the request timeout.
  return proxyActivities<AuditSpikeActivities>({
    startToCloseTimeout: 3 * requestTimeoutMs + 10_000,
    scheduleToCloseTimeout: '10 minutes',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6 },
  });
}

const { notePagerDuty } = proxyActivities<AuditSpikeActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

const APPROVABLE = new Set<StepView['status']>(['proposed', 'failed', 'undone']);

function reason(error: unknown): string {
  if (error instanceof ActivityFailure) return (error.cause?.message ?? error.message).slice(0, 500);
  return String((error as Error)?.message ?? error).slice(0, 500);
}

function who(by: Approver): string {
  return by.id ? `${by.name} (${by.id})` : by.name;
}

export interface ContainmentResult {
  dedupKey: string;
  ended: 'expired' | 'contained' | 'nothing done' | 'resolved by a person';
  steps: Array<Pick<StepView, 'id' | 'status' | 'detail' | 'approvedBy' | 'approvedAt' | 'doneAt' | 'undoneBy' | 'undoneAt'>>;
  approvals: ApprovalRecord[];
}

export async function containmentWorkflow(rawInput: ContainmentInput): Promise<ContainmentResult> {
  const parsed = ContainmentInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({ type: 'BadContainmentInput', nonRetryable: true, message: `The containment plan's input is invalid:\n${describeIssues(parsed.error).join('\n')}` });
  }
  const input = parsed.data;
  const { containmentStep, undoContainmentStep } = stepActivities(input.datadog.requestTimeoutMs);
  const expiresAt = new Date(workflowInfo().startTime.getTime() + input.ttlMs).toISOString();
  const steps: StepView[] = input.steps.map((step) => ({ ...step, status: 'proposed' }));
  const approvals: ApprovalRecord[] = [];
  let incidentId = input.incidentId;
  let expired = false;
  let resolvedByPerson: string | undefined;

  const undoableDone = (step: StepView) => step.undoable && step.status === 'done' && step.userId !== undefined;
  const state = (): PlanView['state'] => {
    if (expired) return 'expired';
    if (steps.some((s) => s.status === 'running')) return 'in progress';
    if (resolvedByPerson && !steps.some((s) => s.status === 'done')) return 'resolved by a person';
    // After an undo the undone step could be approved again, but the plan is not "awaiting approval": keys stay revoked.
    if (steps.some((s) => s.status === 'undone')) return 'undone';
    if (steps.some((s) => APPROVABLE.has(s.status))) return 'awaiting approval';
    return steps.some((s) => s.status === 'done' || s.status === 'undone') ? 'contained' : 'nothing done';
  };
  const view = (): PlanView => ({
    dedupKey: input.dedupKey, orgId: input.orgId, actor: input.actor, ...(incidentId ? { incidentId } : {}), state: state(), expiresAt,
    ...(resolvedByPerson ? { resolvedByPerson } : {}), steps: JSON.parse(JSON.stringify(steps)) as StepView[], manual: input.manual, notes: input.notes, approvals: JSON.parse(JSON.stringify(approvals)) as ApprovalRecord[],
  });
  const render = () => {
    const lines = [
      `**Containment plan** for **${input.actor}**${input.actorName ? ` (${input.actorName})` : ''} in org **${input.orgId}** — ${state()}; approvable until ${expiresAt}.`,
      `Incident: ${input.title} (dedup key \`${input.dedupKey}\`${incidentId ? `, PagerDuty ${incidentId}` : ''})`,
      `Approve: \`audit-spike respond ${input.dedupKey} --all\` or the PagerDuty action; undo a disabled user with \`--undo\`.`,
      '',
      ...steps.map((s) => `- [${s.id}] **${s.status}**: ${s.text}${s.detail ? ` — ${s.detail}` : ''}${s.approvedBy ? ` (approved by ${s.approvedBy} at ${s.approvedAt})` : ''}${s.undoneBy ? ` (undone by ${s.undoneBy} at ${s.undoneAt})` : ''}`),
      ...planLines({ steps: [], manual: input.manual, notes: input.notes }),
      ...(resolvedByPerson ? [`Incident resolved by a person: ${resolvedByPerson}`] : []),
    ];
    setCurrentDetails(lines.join('\n'));
  };

  const selected = (ids: string[] | undefined, all: boolean): StepView[] => {
    if (all) return steps;
    const unknown = (ids ?? []).filter((id) => !steps.some((s) => s.id === id));
    if (unknown.length) throw new Error(`unknown step(s) ${unknown.join(', ')}; this plan's steps: ${steps.map((s) => s.id).join(', ') || 'none'}`);
    return steps.filter((s) => ids!.includes(s.id));
  };

  const note = async (text: string): Promise<string> => {
    try {
      const written = await notePagerDuty({ pagerduty: input.pagerduty, dedupKey: input.dedupKey, ...(incidentId ? { incidentId } : {}), text });
      if (written.incidentId) incidentId = written.incidentId;
      return written.detail;
    } catch (error) {
      return `no note written: ${reason(error)}`;
    }
  };

  setHandler(approveUpdate, async (request: ApproveRequest): Promise<ActionReport> => {
    const chosen = selected(request.steps, request.all === true).filter((s) => APPROVABLE.has(s.status));
    const approvedBy = who(request.by);
    if (request.incidentId && !incidentId) incidentId = request.incidentId;
    for (const step of chosen) Object.assign(step, { status: 'running', approvedBy, approvedAt: request.at, detail: undefined });
    const record: ApprovalRecord = { kind: 'approve', by: request.by, via: request.via, at: request.at, steps: chosen.map((s) => s.id) };
    approvals.push(record);
    log.info('Containment approved', { dedupKey: input.dedupKey, by: approvedBy, via: request.via, steps: record.steps });
    render();
    for (const step of chosen) {
      try {
        const { status: _s, detail: _d, userId: _u, approvedBy: _b, approvedAt: _a, doneAt: _t, undoneBy: _ub, undoneAt: _ua, ...plan } = step;
        const result = await containmentStep({ datadog: input.datadog, step: plan });
        Object.assign(step, { status: result.result === 'refused' ? 'refused' : 'done', detail: result.detail, doneAt: result.at, ...(result.userId ? { userId: result.userId } : {}) });
      } catch (error) {
        Object.assign(step, { status: 'failed', detail: reason(error) });
      }
      render();
    }
    const lines = [
      `audit-spike containment approved by ${approvedBy} via ${request.via} at ${request.at}:`,
      ...chosen.map((s) => `- [${s.id}] ${s.status}: ${s.detail ?? s.text}`),
      ...(input.manual.length ? ['Not undone automatically (a person restores these):', ...input.manual.map((m) => `- ${m.text}${m.href ? ` ${m.href}` : ''}`)] : []),
    ];
    record.note = await note(lines.join('\n'));
    render();
    return { kind: 'approve', by: request.by, at: request.at, steps: chosen.map(({ id, status, detail, text }) => ({ id, status, ...(detail ? { detail } : {}), text })), note: record.note };
  }, {
    validator: (request: ApproveRequest) => {
      const checked = ApproveRequestSchema.safeParse(request);
      if (!checked.success) throw new Error(`invalid approval: ${describeIssues(checked.error).join('; ')}`);
      if (expired) throw new Error(`the plan expired at ${expiresAt}: nothing can be approved`);
      if (resolvedByPerson) throw new Error(`the incident was resolved in PagerDuty by a person (${resolvedByPerson}): the plan can no longer be approved`);
      const chosen = selected(request.steps, request.all === true);
      if (!chosen.some((s) => APPROVABLE.has(s.status))) {
        throw new Error(`nothing to approve: ${chosen.map((s) => `${s.id} is ${s.status}`).join(', ') || 'the plan has no steps'}`);
      }
    },
  });

  setHandler(undoUpdate, async (request: UndoRequest): Promise<ActionReport> => {
    const chosen = (request.steps ? selected(request.steps, false) : steps).filter(undoableDone);
    const undoneBy = who(request.by);
    const record: ApprovalRecord = { kind: 'undo', by: request.by, via: request.via, at: request.at, steps: chosen.map((s) => s.id) };
    approvals.push(record);
    for (const step of chosen) Object.assign(step, { status: 'running', undoneBy, undoneAt: request.at });
    render();
    for (const step of chosen) {
      try {
        const { status: _s, detail: _d, userId, approvedBy: _b, approvedAt: _a, doneAt: _t, undoneBy: _ub, undoneAt: _ua, ...plan } = step;
        const result = await undoContainmentStep({ datadog: input.datadog, step: plan, ...(userId ? { userId } : {}) });
        Object.assign(step, { status: result.result === 'refused' ? 'done' : 'undone', detail: result.detail });
      } catch (error) {
        Object.assign(step, { status: 'done', detail: `undo failed: ${reason(error)}` });
      }
      render();
    }
    record.note = await note([`audit-spike containment undone by ${undoneBy} via ${request.via} at ${request.at}:`, ...chosen.map((s) => `- [${s.id}] ${s.status}: ${s.detail ?? s.text}`)].join('\n'));
    render();
    return { kind: 'undo', by: request.by, at: request.at, steps: chosen.map(({ id, status, detail, text }) => ({ id, status, ...(detail ? { detail } : {}), text })), note: record.note };
  }, {
    validator: (request: UndoRequest) => {
      const checked = UndoRequestSchema.safeParse(request);
      if (!checked.success) throw new Error(`invalid undo: ${describeIssues(checked.error).join('; ')}`);
      if (expired) throw new Error(`the plan expired at ${expiresAt}: undo by hand in Datadog`);
      const named = request.steps ? selected(request.steps, false) : steps;
      const irreversible = named.filter((s) => !s.undoable && request.steps);
      if (irreversible.length) throw new Error(`cannot be undone: ${irreversible.map((s) => s.id).join(', ')} (a revoked key cannot come back)`);
      if (!named.some(undoableDone)) throw new Error(`nothing to undo: ${named.filter((s) => s.undoable).map((s) => `${s.id} is ${s.status}`).join(', ') || 'no step of this plan can be undone'}`);
    },
  });

  setHandler(incidentResolvedSignal, ({ detail }) => {
    if (resolvedByPerson) return;
    resolvedByPerson = String(detail).slice(0, 300);
    log.info('The incident was resolved by a person; the plan can no longer be approved', { dedupKey: input.dedupKey });
    render();
  });
  setHandler(incidentOpenedSignal, ({ incidentId: id }) => {
    if (incidentId || typeof id !== 'string' || id === '') return;
    incidentId = id.slice(0, 100);
    render();
  });
  setHandler(planQuery, view);

  render();
  const finished = () => !steps.some((s) => s.status === 'running' || undoableDone(s)) &&
    (resolvedByPerson !== undefined || !steps.some((s) => APPROVABLE.has(s.status)));
  if (!(await condition(finished, input.ttlMs))) expired = true;
  render();
  await condition(allHandlersFinished);
  const acted = steps.some((s) => s.status === 'done' || s.status === 'undone');
  const ended: ContainmentResult['ended'] = expired ? 'expired' : resolvedByPerson && !acted ? 'resolved by a person' : acted ? 'contained' : 'nothing done';
  return {
    dedupKey: input.dedupKey,
    ended,
    steps: steps.map(({ id, status, detail, approvedBy, approvedAt, doneAt, undoneBy, undoneAt }) => ({ id, status, ...(detail ? { detail } : {}), ...(approvedBy ? { approvedBy, approvedAt } : {}), ...(doneAt ? { doneAt } : {}), ...(undoneBy ? { undoneBy, undoneAt } : {}) })),
    approvals,
  };
}
