import { valueAt } from './event-fields';
import type { ActorField } from './types';

export const UNKNOWN_ACTOR = 'unknown';

export interface ResolvedActor {
  id: string;
  name?: string;
}

/** Resolves who did it: the first mapped field with a value wins; emails are lower-cased; no field at all → `unknown`. */
export class ActorResolver {
  private readonly fields: Array<ActorField & { segments: string[] }>;
  private readonly nameFields: string[][];

  constructor(fields: ActorField[], nameFields: string[]) {
    this.fields = fields.map((field) => ({ ...field, segments: field.path.split('.') }));
    this.nameFields = nameFields.map((path) => path.split('.'));
  }

  resolve(inner: Record<string, unknown>): ResolvedActor {
    let id = UNKNOWN_ACTOR;
    for (const field of this.fields) {
      const raw = valueAt(inner, field.segments);
      if ((typeof raw !== 'string' && typeof raw !== 'number') || raw === '') continue;
      const text = String(raw).trim();
      if (text === '') continue;
      id = field.prefix + (field.kind === 'email' ? text.toLowerCase() : text);
      break;
    }
    for (const segments of this.nameFields) {
      const name = valueAt(inner, segments);
      if (typeof name === 'string' && name.trim() !== '') return { id, name: name.trim() };
    }
    return { id };
  }
}
