import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { ManualItem, PlanStep } from './plan';

/**
 * The response workflow's messages (#17), shared by the workflow, `audit-spike respond` and the webhook receiver.
 * Every request says who and when; the workflow keeps it and writes it on the PagerDuty incident.
 */

const isoTime = z.string().refine((text) => /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)), 'an ISO 8601 time');

export const ApproverSchema = z.object({
  /** A person's name or email (PagerDuty's agent summary, or whoever ran the CLI). */
  name: z.string().min(1).max(200),
  /** PagerDuty's user id, when approved from PagerDuty. */
  id: z.string().min(1).max(100).optional(),
}).strict();
export type Approver = z.infer<typeof ApproverSchema>;

export const ApproveRequestSchema = z.object({
  steps: z.array(z.string().min(1).max(256)).max(64).optional(),
  all: z.boolean().optional(),
  by: ApproverSchema,
  via: z.enum(['cli', 'pagerduty']),
  /** When the person approved: the webhook's `occurred_at` (signed by PagerDuty), or the CLI's clock. */
  at: isoTime,
  /** The PagerDuty incident the approval came from (webhooks): where the note goes in Events mode too. */
  incidentId: z.string().min(1).max(100).optional(),
}).strict().refine((request) => request.all === true || (request.steps?.length ?? 0) > 0, 'name the steps to approve, or all');
export type ApproveRequest = z.infer<typeof ApproveRequestSchema>;

export const UndoRequestSchema = z.object({
  /** Absent: every step that can be undone. */
  steps: z.array(z.string().min(1).max(256)).max(64).optional(),
  by: ApproverSchema,
  via: z.enum(['cli', 'pagerduty']),
  at: isoTime,
}).strict();
export type UndoRequest = z.infer<typeof UndoRequestSchema>;

export type StepStatus = 'proposed' | 'running' | 'done' | 'refused' | 'failed' | 'undone';

export interface StepView extends PlanStep {
  status: StepStatus;
  /** What the last attempt said (done, already so, refused and why, or why it failed). */
  detail?: string;
  userId?: string;
  approvedBy?: string;
  approvedAt?: string;
  doneAt?: string;
  undoneBy?: string;
  undoneAt?: string;
}

export interface ApprovalRecord {
  kind: 'approve' | 'undo';
  by: Approver;
  via: 'cli' | 'pagerduty';
  at: string;
  steps: string[];
  note?: string;
}

export interface PlanView {
  dedupKey: string;
  orgId: string;
  actor: string;
  incidentId?: string;
  /** `undone`: a person undid what could be undone (who and when on each step); what cannot be undone stays done. */
  state: 'awaiting approval' | 'in progress' | 'contained' | 'undone' | 'nothing done' | 'expired' | 'resolved by a person';
  expiresAt: string;
  resolvedByPerson?: string;
  steps: StepView[];
  manual: ManualItem[];
  notes: string[];
  approvals: ApprovalRecord[];
}

export interface ActionReport {
  kind: 'approve' | 'undo';
  by: Approver;
  at: string;
  steps: Array<Pick<StepView, 'id' | 'status' | 'detail' | 'text'>>;
  /** Whether the note reached the PagerDuty incident, and if not why. */
  note: string;
}

export const approveUpdate = defineUpdate<ActionReport, [ApproveRequest]>('approve');
export const undoUpdate = defineUpdate<ActionReport, [UndoRequest]>('undo');
/** The scheduled workflow saw the incident resolved in PagerDuty by a person: the plan can no longer be approved. */
export const incidentResolvedSignal = defineSignal<[{ detail: string }]>('incidentResolved');
export const planQuery = defineQuery<PlanView>('plan');
/**
 * The PagerDuty incident of the plan, learned after it started (Events mode pages by dedup key and never sees the id;
 * the dev stack tells it from the PagerDuty simulator), so `audit-spike respond INCIDENT_ID` finds the plan in Temporal.
 */
export const incidentOpenedSignal = defineSignal<[{ incidentId: string }]>('incidentOpened');
