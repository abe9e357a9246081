import { z } from 'zod';
import { PagerDutyTargetSchema, describeIssues, type PagerDutyTarget } from '../../config/args-schema';
import { needsAttention } from '../failures';
import { failOnStatus, restRequest } from '../pagerduty/pdjs-calls';
import { cutToCharacters } from '../pagerduty/text-limits';
import { readSecret, type Environment } from '../secrets';

export const NoteInputSchema = z.object({
  pagerduty: PagerDutyTargetSchema,
  dedupKey: z.string().min(1).max(255),
  incidentId: z.string().min(1).optional(),
  text: z.string().min(1),
}).strict();
export type NoteInput = z.infer<typeof NoteInputSchema>;

export interface NoteResult {
  written: boolean;
  incidentId?: string;
  detail: string;
}

/**
 * A note on the incident saying who approved what and what was done. REST mode only: the Events API has no notes
 * (then the approval is recorded in the response workflow alone, and the result says so).
 */
export function createNotePagerDuty(deps: { env: Environment }) {
  return async function notePagerDuty(raw: NoteInput): Promise<NoteResult> {
    const parsed = NoteInputSchema.safeParse(raw);
    if (!parsed.success) throw needsAttention('BadNoteInput', `notePagerDuty got invalid input:\n${describeIssues(parsed.error).join('\n')}`);
    const input = parsed.data;
    const target: PagerDutyTarget = input.pagerduty;
    if (target.mode !== 'rest') return { written: false, detail: 'no note written: Events mode, and the Events API has no notes (the approval is recorded in the response workflow)' };
    const token = readSecret(deps.env, target.tokenEnv, 'The PagerDuty REST API token');
    let incidentId = input.incidentId;
    if (!incidentId) {
      const found = await restRequest(target, token, 'GET', '/incidents', {
        query: { incident_key: input.dedupKey, 'service_ids[]': [target.serviceId], 'statuses[]': ['triggered', 'acknowledged', 'resolved'], date_range: 'all', limit: '100' },
      });
      if (found.status !== 200) failOnStatus(found, `the incident lookup for ${input.dedupKey}`);
      incidentId = ((found.data?.incidents ?? []) as Array<{ id?: string }>).find((i) => typeof i.id === 'string')?.id;
      if (!incidentId) return { written: false, detail: `no note written: no incident with key ${input.dedupKey} in PagerDuty` };
    }
    const response = await restRequest(target, token, 'POST', `/incidents/${incidentId}/notes`, { data: { note: { content: cutToCharacters(input.text, 25_000) } } });
    if (response.status < 200 || response.status >= 300) failOnStatus(response, `a note on ${incidentId}`);
    return { written: true, incidentId, detail: `note added to ${incidentId}` };
  };
}
