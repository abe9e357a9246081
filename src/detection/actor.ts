import { pathGetter, type Getter } from './event-fields';
import { quoteQueryValue } from './query';
import { compileMatch } from './rules';
import type { ActorField } from './types';

/** Events with no attributable actor are grouped (and can burst) under this id, and counted. */
export const UNKNOWN_ACTOR = 'unknown';
export const UNKNOWN_ACTOR_LABEL = 'unknown actor (no user, service account or API key on the events)';

export interface ResolvedActor {
  id: string;
  name?: string;
}

interface CompiledField extends ActorField {
  read: Getter;
  applies: (inner: Record<string, unknown>) => boolean;
}

/** Enough of an email to tell one from the UUID Datadog puts in `usr.email` for key-authenticated actions. */
const EMAIL = /^[^@\s]+@[^@\s]+$/;

function textAt(inner: Record<string, unknown>, read: Getter): string | undefined {
  const raw = read(inner);
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const text = String(raw).trim();
  return text === '' ? undefined : text;
}

/**
 * Resolves who did it: the first mapped field that applies to the event and has a value wins. Emails are lower-cased;
 * ids (users, service accounts, API keys) are kept as they are. No field at all → `unknown`. The display name is the
 * first name field with a value, else, for an actor named by an id, its email.
 *
 * For actions done with an API and application key, Datadog records the user's UUID in `usr.email` and the email in
 * `usr.id` (the design's "Datadog facts"; the recorded agent event has a UUID in both). So an email field only names
 * the actor when it holds an email, and an id field holding an email names the same person as their session events do.
 */
export class ActorResolver {
  private readonly fields: CompiledField[];
  private readonly nameFields: Getter[];
  private readonly emailFields: Getter[];

  constructor(fields: ActorField[], nameFields: string[]) {
    this.fields = fields.map((field) => ({
      ...field,
      read: pathGetter(field.path.split('.')),
      applies: field.when && field.when.length > 0 ? compileMatch(field.when) : () => true,
    }));
    this.nameFields = nameFields.map((path) => pathGetter(path.split('.')));
    this.emailFields = this.fields.filter((field) => field.kind === 'email').map((field) => field.read);
  }

  resolve(inner: Record<string, unknown>): ResolvedActor {
    let id = UNKNOWN_ACTOR;
    let byEmail = false;
    for (const field of this.fields) {
      const text = textAt(inner, field.read);
      if (text === undefined || !field.applies(inner)) continue;
      const isEmail = EMAIL.test(text);
      if (field.kind === 'email' && !isEmail) continue;
      byEmail = isEmail && (field.kind === 'email' || field.kind === 'id');
      id = field.prefix + (byEmail ? text.toLowerCase() : text);
      break;
    }
    for (const read of this.nameFields) {
      const name = textAt(inner, read);
      if (name !== undefined) return { id, name };
    }
    if (id !== UNKNOWN_ACTOR && !byEmail) {
      for (const read of this.emailFields) {
        const email = textAt(inner, read);
        if (email !== undefined && EMAIL.test(email)) return { id, name: email };
      }
    }
    return { id };
  }

  /** A Datadog Audit Trail query for this actor's events, built from the field that named it. */
  queryFor(actor: string): string {
    if (actor === UNKNOWN_ACTOR) {
      return [...new Set(this.fields.map((field) => field.path))].map((path) => `-@${path}:*`).join(' ');
    }
    const prefixed = this.fields
      .filter((field) => field.prefix !== '' && actor.startsWith(field.prefix))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0];
    const field = prefixed
      ?? this.fields.find((f) => f.prefix === '' && (f.kind === 'email') === actor.includes('@'))
      ?? this.fields.find((f) => f.prefix === '');
    if (!field) return `"${actor}"`;
    const value = actor.slice(field.prefix.length);
    return `@${field.path}:${field.kind === 'email' ? `"${value.replace(/"/g, '\\"')}"` : quoteQueryValue(value)}`;
  }
}
