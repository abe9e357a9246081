import { SERVICE, policyReference, serviceReference, userReference, type ServiceUrgency, type Severity, type SimUser, type Urgency } from './account';

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface SimIncident {
  id: string;
  number: number;
  source: 'events' | 'rest';
  dedupKey: string;
  title: string;
  severity?: Severity;
  urgency: Urgency;
  status: IncidentStatus;
  serviceId: string;
  createdAt: string;
  updatedAt: string;
  /** REST mode: `incident.body.details` as sent. */
  body?: string;
  /** Events mode: every event for this incident (trigger, acknowledge, resolve) in arrival order. */
  alerts: Array<{ at: string; event_action: string; payload: unknown; links?: unknown }>;
  notes: Array<{ id: string; content: string; at: string; from?: string }>;
  assignees: string[];
  /** Ids of the users PagerDuty notified when the incident opened (an incident assigned to its creator notifies no one). */
  notified: string[];
  /** Who changed the status, in order: `person:<email>` (the person knobs), `rest:<From>`, `events`. */
  statusChanges: Array<{ at: string; status: IncidentStatus; by: string }>;
}

const ID_SPACE = 36 ** 7;

/** 'Q' + 7 base-36 characters: an odd multiplier coprime to 36^7 makes a counter look like PagerDuty ids, without repeats. */
export function pagerDutyId(prefix: string, n: number): string {
  return prefix + ((n * 2_654_435_761 + 1_234_567) % ID_SPACE).toString(36).toUpperCase().padStart(7, '0');
}

/** The simulator's account state: incidents, users, the service's urgency rule, and its clock (tests move it). */
export class IncidentStore {
  readonly incidents: SimIncident[] = [];
  serviceUrgency: ServiceUrgency = 'severity_based';
  private clockOffsetMs = 0;
  private incidentCount = 0;
  private noteCount = 0;

  constructor(readonly users: SimUser[]) {}

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  clear(): void {
    this.incidents.length = 0;
  }

  /** The users on call at the policy's first level, in id order. */
  firstOnCall(): string[] {
    const levels = this.users.map((u) => u.level).filter((l): l is number => l !== undefined);
    if (!levels.length) return [];
    const first = Math.min(...levels);
    return this.users.filter((u) => u.level === first).map((u) => u.id).sort();
  }

  userByEmail(email: string): SimUser | undefined {
    return this.users.find((u) => u.email.toLowerCase() === email.trim().toLowerCase());
  }

  /** The open incident with this key on the service, the newest first (only one can be open). */
  openIncident(dedupKey: string): SimIncident | undefined {
    return this.incidents.find((i) => i.serviceId === SERVICE.id && i.dedupKey === dedupKey && i.status !== 'resolved');
  }

  open(fields: Pick<SimIncident, 'source' | 'dedupKey' | 'title' | 'urgency' | 'status' | 'assignees' | 'notified'> & Partial<SimIncident>): SimIncident {
    const number = ++this.incidentCount;
    const now = this.nowIso();
    const incident: SimIncident = {
      id: pagerDutyId('Q', number), number, serviceId: SERVICE.id, createdAt: now, updatedAt: now, alerts: [], notes: [], statusChanges: [], ...fields,
    };
    this.incidents.push(incident);
    return incident;
  }

  setStatus(incident: SimIncident, status: IncidentStatus, by: string): void {
    const at = this.nowIso();
    incident.status = status;
    incident.updatedAt = at;
    incident.statusChanges.push({ at, status, by });
  }

  nextNoteId(): string {
    return pagerDutyId('N', ++this.noteCount);
  }

  /** What a person does in the PagerDuty UI: acknowledge or resolve the open incident with this key. */
  personActs(action: 'acknowledge' | 'resolve', dedupKey: string, email: string): SimIncident {
    const incident = this.openIncident(dedupKey);
    if (!incident) throw new Error(`no open incident with dedup key ${dedupKey} to ${action}`);
    if (action === 'acknowledge' && incident.status === 'acknowledged') return incident;
    this.setStatus(incident, action === 'resolve' ? 'resolved' : 'acknowledged', `person:${email}`);
    return incident;
  }

  incidentJson(incident: SimIncident) {
    return {
      id: incident.id,
      type: 'incident',
      summary: `[#${incident.number}] ${incident.title}`,
      self: `https://api.pagerduty.com/incidents/${incident.id}`,
      html_url: `https://sim.pagerduty.local/incidents/${incident.id}`,
      incident_number: incident.number,
      title: incident.title,
      status: incident.status,
      urgency: incident.urgency,
      incident_key: incident.dedupKey,
      created_at: incident.createdAt,
      updated_at: incident.updatedAt,
      service: serviceReference(),
      escalation_policy: policyReference(),
      // "This list will be empty if the Incident.status is resolved." (api-schema, Incident.assignments)
      assignments: incident.status === 'resolved' ? [] : incident.assignees.map((id) => ({ at: incident.createdAt, assignee: userReference(this.users, id) })),
    };
  }

  noteJson(note: SimIncident['notes'][number]) {
    const user = note.from ? this.userByEmail(note.from) : undefined;
    return {
      id: note.id,
      content: note.content,
      created_at: note.at,
      channel: { summary: 'The PagerDuty website or APIs' },
      user: user ? userReference(this.users, user.id) : { type: 'user_reference', summary: note.from ?? 'unknown' },
    };
  }
}
