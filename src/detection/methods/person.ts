import { pathGetter } from '../event-fields';

/**
 * What the v3 methods read of one event (design.md "Default rule catalog v3"): whether its actor is a person, and where
 * Datadog's geoip enrichment (`network.client.geoip`) places it.
 */

/** Enough of an email to tell one from the UUID Datadog puts in `usr.email` for key-authenticated actions. */
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** Actions of the learning set: located events with these actions teach the baseline, whatever the asset. */
export const LEARNING_ACTIONS = ['login', 'created', 'modified', 'deleted'] as const;
const LEARNING = new Set<string>(LEARNING_ACTIONS);

/** The country field the default catalog learns. */
export const COUNTRY_FIELD = 'network.client.geoip.country.iso_code';

export interface Place {
  /** ISO 3166 code, upper case. */
  country: string;
  city?: string;
  lat?: number;
  lon?: number;
}

const read = {
  email: pathGetter(['usr', 'email']),
  actorType: pathGetter(['evt', 'actor', 'type']),
  action: pathGetter(['action']),
  country: pathGetter(['network', 'client', 'geoip', 'country', 'iso_code']),
  city: pathGetter(['network', 'client', 'geoip', 'city', 'name']),
  lat: pathGetter(['network', 'client', 'geoip', 'location', 'latitude']),
  lon: pathGetter(['network', 'client', 'geoip', 'location', 'longitude']),
};

/**
 * The person who did it, as the lower-cased email, or undefined when the actor is not a person: a person has a
 * `usr.email` that holds an email and an `evt.actor.type` of `USER` (or none). API keys without a user, service
 * accounts (typed `SERVICE_ACCOUNT`), `SUPPORT_USER` and `SYSTEM` are not persons; neither is a key-authenticated
 * action, whose `usr.email` holds a UUID.
 */
export function personOf(inner: Record<string, unknown>): string | undefined {
  const email = read.email(inner);
  if (typeof email !== 'string' || !EMAIL.test(email.trim())) return undefined;
  const type = read.actorType(inner);
  if (type !== undefined && type !== null && (typeof type !== 'string' || type.toUpperCase() !== 'USER')) return undefined;
  return email.trim().toLowerCase();
}

/** Whether the event's action is one the learning set takes (`login`, `created`, `modified`, `deleted`). */
export function isLearningAction(inner: Record<string, unknown>): boolean {
  const action = read.action(inner);
  return typeof action === 'string' && LEARNING.has(action.toLowerCase());
}

function coordinate(raw: unknown, limit: number): number | undefined {
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  return Number.isFinite(value) && Math.abs(value) <= limit ? value : undefined;
}

/** Where geoip places the event: undefined without a country code (not a located event). */
export function placeOf(inner: Record<string, unknown>): Place | undefined {
  const code = read.country(inner);
  if (typeof code !== 'string' || !/^[A-Za-z]{2}$/.test(code)) return undefined;
  const city = read.city(inner);
  const lat = coordinate(read.lat(inner), 90);
  const lon = coordinate(read.lon(inner), 180);
  return {
    country: code.toUpperCase(),
    ...(typeof city === 'string' && city.trim() !== '' ? { city: city.trim().slice(0, 48) } : {}),
    ...(lat !== undefined && lon !== undefined ? { lat, lon } : {}),
  };
}
