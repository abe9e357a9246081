import { parseIsoUtc, pathGetter } from './event-fields';
import type { NewValueEvidence, TravelEvidence } from './methods/method';
import type { AuditEventLike } from './types';

/** One asset a rule's events touched, distinct by id (else by name), with how many of the burst's events touched it. */
export interface EvidenceAsset {
  type: string;
  id?: string;
  name?: string;
  count: number;
}

export interface EvidenceSample {
  id: string;
  timestamp: string;
  rule: string;
  message: string;
}

/** What an incident shows of the events that made its burst (design.md "Evidence"; stable: part of the dry-run incident). */
export interface Evidence {
  ips: string[];
  userAgents: string[];
  authMethods: string[];
  actorTypes: string[];
  assets: Record<string, EvidenceAsset[]>;
  samples: EvidenceSample[];
  /**
   * Catalog v3 (stable): the ISO country codes of the incident's events (geoip), most frequent first, at most 10; the
   * new values a person was seen with; the impossible travel. Each only when there is something to show, so incidents
   * of events without geoip read as they always did.
   */
  countries?: string[];
  newValues?: NewValueEvidence[];
  travel?: TravelEvidence;
}

/** What catalog v3's methods saw on one event: shown in the evidence of the incident it joins. */
export interface DerivedEvidence {
  newValues?: NewValueEvidence[];
  travel?: TravelEvidence;
}

/** `[value, count]` pairs: a heavy-hitter tally that keeps its size whatever the number of distinct values. */
export type Tally = Array<[string, number]>;

/** The evidence as an incident carries it between runs: the shown form, with counts for the values ranked by frequency. */
export interface EvidenceState {
  ips: Tally;
  userAgents: Tally;
  authMethods: string[];
  actorTypes: string[];
  assets: Record<string, EvidenceAsset[]>;
  samples: EvidenceSample[];
  /** Catalog v3, absent until an event has something for them (see Evidence). */
  countries?: Tally;
  newValues?: NewValueEvidence[];
  travel?: TravelEvidence;
}

export const EVIDENCE_LIMITS = {
  ips: 10,
  userAgents: 5,
  authMethods: 5,
  actorTypes: 5,
  assetRules: 5,
  assetsPerRule: 20,
  samples: 10,
  countries: 10,
  newValues: 5,
  /** Tallies track twice the values they show, so a value that becomes frequent late still ranks. */
  trackedFactor: 2,
} as const;

/** Longest kept text per field, in UTF-16 code units (longer values are cut and end with …). */
export const EVIDENCE_TEXT_LIMITS = {
  ip: 45, // the longest textual IPv6 address
  userAgent: 160,
  authMethod: 32,
  actorType: 32,
  assetType: 48,
  assetId: 64,
  assetName: 80,
  sampleId: 96,
  ruleId: 64,
  message: 200,
} as const;

/**
 * The most one incident's evidence costs as JSON (UTF-8), carried (the shown form is smaller), every cap reached with
 * the costliest characters. Control characters become spaces, so no character costs more than 3 bytes (a BMP character
 * outside ASCII; a surrogate pair is 4 bytes for 2 code units). Worst case, as JSON bytes:
 *   ips        20 tracked × (45 × 3 + 16-digit count + 5)         =  3,139
 *   userAgents 10 tracked × (160 × 3 + 16 + 5)                    =  5,019
 *   authMethods, actorTypes 2 × 5 × (32 × 3 + 2)                  =    988
 *   assets     5 rules × (64-char id + 20 × (48+64+80) × 3 + 46)  = 63,444
 *   samples    10 × ((96 + 200) × 3 + 24 + 64 + 47)               = 10,239
 *   keys and brackets                                             ≈     85
 * in all at most 83,000 bytes (about 28 KB when the texts are ASCII). test/unit/evidence.test.ts builds that worst case.
 */
export const EVIDENCE_MAX_BYTES = 83_000;

/** A getter of a path under a parent already read, which may be anything (a getter checks its root as it checks each step). */
const childGetter = (segments: readonly string[]): ((parent: unknown) => unknown) => pathGetter(segments) as (parent: unknown) => unknown;

/**
 * The paths evidence reads; those under `network.client` and `asset` from that parent, so that an event's walk reads
 * each parent once (it runs for every matched event). A child getter gives undefined where the parent is not an
 * object, as the getter of the whole path did.
 */
const read = {
  userAgent: pathGetter(['http', 'useragent']),
  authMethod: pathGetter(['auth_method']),
  actorType: pathGetter(['evt', 'actor', 'type']),
  client: pathGetter(['network', 'client']),
  ip: childGetter(['ip']),
  country: childGetter(['geoip', 'country', 'iso_code']),
  asset: pathGetter(['asset']),
  assetType: childGetter(['type']),
  assetId: childGetter(['id']),
  assetName: childGetter(['name']),
};

/**
 * What catalog v3 adds to one incident's evidence at most, as JSON: countries 20 tracked × (2 + 16-digit count + 5);
 * 5 new values × (rule 64 + field 128 + value 64 + 8 seen before × (64 + 3) + 60) = 3,540; a travel with two cities
 * of 48 characters (UTF-8 ×3), two timestamps and the figures ≈ 500: under 4,600 bytes beside EVIDENCE_MAX_BYTES.
 */
export const EVIDENCE_V3_MAX_BYTES = 4_600;

/** An ISO country code as geoip gives it: two letters, upper-cased. */
function countryCode(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length !== 2) return undefined;
  const first = raw.charCodeAt(0);
  const second = raw.charCodeAt(1);
  if (isUpperAscii(first) && isUpperAscii(second)) return raw;
  return isAsciiLetter(first) && isAsciiLetter(second) ? raw.toUpperCase() : undefined;
}

const isUpperAscii = (code: number): boolean => code >= 0x41 && code <= 0x5a;
const isAsciiLetter = (code: number): boolean => isUpperAscii(code) || (code >= 0x61 && code <= 0x7a);

export function emptyEvidence(): EvidenceState {
  return { ips: [], userAgents: [], authMethods: [], actorTypes: [], assets: {}, samples: [] };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f]/g;

/** The value as kept text: control characters as spaces (JSON would escape them to 6 bytes), at most `max` code units. */
export function boundedText(raw: unknown, max: number): string | undefined {
  // Most values are short and plain: kept as they are, without a copy.
  if (typeof raw === 'string' && raw.length <= max && !CONTROL.test(raw)) return raw.length > 0 ? raw : undefined;
  let text: string;
  if (typeof raw === 'string') text = raw;
  else if (typeof raw === 'number' || typeof raw === 'boolean') text = String(raw);
  else return undefined;
  if (text.length === 0) return undefined;
  if (text.length > max) {
    let cut = max - 1;
    // Never split a surrogate pair.
    const code = text.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    text = `${text.slice(0, cut)}…`;
  }
  return CONTROL.test(text) ? text.replace(CONTROLS, ' ') : text;
}

/** Space-saving count: a new value replaces the least counted when full, inheriting its count (so heavy hitters stay). */
function tallyAdd(tally: Tally, value: string | undefined, capacity: number, weight = 1): void {
  if (value === undefined) return;
  let least = -1;
  for (let i = 0; i < tally.length; i++) {
    const entry = tally[i];
    if (entry[0] === value) {
      entry[1] += weight;
      return;
    }
    if (least < 0 || entry[1] < tally[least][1]) least = i;
  }
  if (tally.length < capacity) tally.push([value, weight]);
  else tally[least] = [value, tally[least][1] + weight];
}

function distinctAdd(values: string[], value: string | undefined, capacity: number): void {
  if (value === undefined || values.length >= capacity || values.includes(value)) return;
  values.push(value);
}

/** The rule's asset list, made if the evidence has room for another rule (else undefined). */
function assetListOf(evidence: EvidenceState, rule: string): EvidenceAsset[] | undefined {
  const list = evidence.assets[rule];
  if (list !== undefined) return list;
  if (Object.keys(evidence.assets).length >= EVIDENCE_LIMITS.assetRules) return undefined;
  return (evidence.assets[rule] = []);
}

/** Counts the asset in if the list knows it (by id, else by name among those without an id); whether it did. */
function countKnownAsset(list: EvidenceAsset[], id: string | undefined, name: string | undefined, weight: number): boolean {
  for (let i = 0; i < list.length; i++) {
    const known = list[i];
    if (id !== undefined ? known.id === id : known.id === undefined && known.name === name) {
      known.count += weight;
      return true;
    }
  }
  return false;
}

/** A first-seen asset, its keys in the order JSON has always shown them: type, id?, name?, count. */
function newAsset(type: string, id: string | undefined, name: string | undefined, count: number): EvidenceAsset {
  if (id === undefined) return name === undefined ? { type, count } : { type, name, count };
  return name === undefined ? { type, id, count } : { type, id, name, count };
}

/** Counts `weight` touches of the asset toward the rule, within the caps on rules and assets per rule. */
function assetAdd(evidence: EvidenceState, rule: string, type: string, id: string | undefined, name: string | undefined, weight: number): void {
  const list = assetListOf(evidence, rule);
  if (list === undefined || countKnownAsset(list, id, name, weight)) return;
  if (list.length < EVIDENCE_LIMITS.assetsPerRule) list.push(newAsset(type, id, name, weight));
}

function earlier(a: EvidenceSample, b: EvidenceSample): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);
}

function sampleAdd(samples: EvidenceSample[], sample: EvidenceSample): void {
  const n = samples.length;
  if (n >= EVIDENCE_LIMITS.samples && !earlier(sample, samples[n - 1])) return;
  let at = n;
  while (at > 0 && earlier(sample, samples[at - 1])) at--;
  if (at > 0 && samples[at - 1].id === sample.id && samples[at - 1].timestamp === sample.timestamp) return;
  samples.splice(at, 0, sample);
  if (samples.length > EVIDENCE_LIMITS.samples) samples.length = EVIDENCE_LIMITS.samples;
}

/**
 * What evidence reads of one event, as bounded texts: all an event leaves behind when it waits for a burst that has
 * not opened yet (the scan's pending evidence), so that nothing else of the deserialized event outlives its page.
 * At most about 1.2 KB whatever the event (the EVIDENCE_TEXT_LIMITS of its fields).
 */
export interface EventFacts {
  ts: number;
  id: string;
  message: string;
  ip?: string;
  userAgent?: string;
  authMethod?: string;
  actorType?: string;
  assetType?: string;
  assetId?: string;
  assetName?: string;
  /** The geoip country (ISO code), and what catalog v3's methods saw on the event (absent for most events). */
  country?: string;
  derived?: DerivedEvidence;
}

export function eventFacts(event: AuditEventLike, inner: Record<string, unknown>, ts: number): EventFacts {
  const t = EVIDENCE_TEXT_LIMITS;
  const facts: EventFacts = {
    ts,
    id: boundedText(event.id, t.sampleId) ?? '',
    message: boundedText(event.attributes?.message, t.message) ?? '',
  };
  const client = read.client(inner);
  const ip = boundedText(read.ip(client), t.ip);
  if (ip !== undefined) facts.ip = ip;
  const userAgent = boundedText(read.userAgent(inner), t.userAgent);
  if (userAgent !== undefined) facts.userAgent = userAgent;
  const authMethod = boundedText(read.authMethod(inner), t.authMethod);
  if (authMethod !== undefined) facts.authMethod = authMethod;
  const actorType = boundedText(read.actorType(inner), t.actorType);
  if (actorType !== undefined) facts.actorType = actorType;
  const asset = read.asset(inner);
  const assetType = boundedText(read.assetType(asset), t.assetType);
  if (assetType !== undefined) facts.assetType = assetType;
  const assetId = boundedText(read.assetId(asset), t.assetId);
  if (assetId !== undefined) facts.assetId = assetId;
  const assetName = boundedText(read.assetName(asset), t.assetName);
  if (assetName !== undefined) facts.assetName = assetName;
  const country = countryCode(read.country(client));
  if (country !== undefined) facts.country = country;
  return facts;
}

function addFields(
  evidence: EvidenceState, rules: readonly string[], ip: string | undefined, userAgent: string | undefined, authMethod: string | undefined,
  actorType: string | undefined, type: string | undefined, id: string | undefined, name: string | undefined,
): void {
  const tracked = EVIDENCE_LIMITS.trackedFactor;
  tallyAdd(evidence.ips, ip, EVIDENCE_LIMITS.ips * tracked);
  tallyAdd(evidence.userAgents, userAgent, EVIDENCE_LIMITS.userAgents * tracked);
  distinctAdd(evidence.authMethods, authMethod, EVIDENCE_LIMITS.authMethods);
  distinctAdd(evidence.actorTypes, actorType, EVIDENCE_LIMITS.actorTypes);
  if (type === undefined && id === undefined && name === undefined) return;
  for (let i = 0; i < rules.length; i++) assetAdd(evidence, rules[i], type ?? 'unknown', id, name, 1);
}

/** Whether an event at `ts` can still be among the evidence's samples (the 10 earliest). */
function mayBeSample(samples: EvidenceSample[], ts: number): boolean {
  return samples.length < EVIDENCE_LIMITS.samples || ts <= parseIsoUtc(samples[samples.length - 1].timestamp);
}

/** Adds one event's facts (see `eventFacts`) that counted toward `rules` to the evidence, in place: as `addEventEvidence`. */
/** Catalog v3's part of one event: its country, and what the methods saw (new values, travel). */
export function addDerivedEvidence(evidence: EvidenceState, country: string | undefined, derived: DerivedEvidence | undefined): void {
  if (country !== undefined) tallyAdd((evidence.countries ??= []), country, EVIDENCE_LIMITS.countries * EVIDENCE_LIMITS.trackedFactor);
  if (derived === undefined) return;
  for (const seen of derived.newValues ?? []) newValueAdd(evidence, seen);
  // The first impossible travel of the burst is the one shown (the one that paged).
  if (derived.travel !== undefined && (evidence.travel === undefined || derived.travel.to.timestamp < evidence.travel.to.timestamp)) evidence.travel = derived.travel;
}

function newValueAdd(evidence: EvidenceState, seen: NewValueEvidence): void {
  const list = (evidence.newValues ??= []);
  if (list.some((known) => known.rule === seen.rule && known.field === seen.field && known.value === seen.value)) return;
  if (list.length < EVIDENCE_LIMITS.newValues) list.push({ ...seen, seenBefore: [...seen.seenBefore] });
}

export function addFactsEvidence(evidence: EvidenceState, facts: EventFacts, rules: readonly string[]): void {
  addFields(evidence, rules, facts.ip, facts.userAgent, facts.authMethod, facts.actorType, facts.assetType, facts.assetId, facts.assetName);
  if (facts.country !== undefined || facts.derived !== undefined) addDerivedEvidence(evidence, facts.country, facts.derived);
  if (!mayBeSample(evidence.samples, facts.ts)) return;
  sampleAdd(evidence.samples, { id: facts.id, timestamp: new Date(facts.ts).toISOString(), rule: boundedText(rules[0], EVIDENCE_TEXT_LIMITS.ruleId) ?? '', message: facts.message });
}

/**
 * Adds one event that counted toward `rules` (the base rules it matched, in catalog order) to the evidence, in place.
 * Costs a few short scans of arrays capped by EVIDENCE_LIMITS, whatever the number of events already added.
 */
export function addEventEvidence(
  evidence: EvidenceState, event: AuditEventLike, inner: Record<string, unknown>, ts: number, rules: readonly string[], derived?: DerivedEvidence,
): void {
  const t = EVIDENCE_TEXT_LIMITS;
  const client = read.client(inner);
  const asset = read.asset(inner);
  addFields(evidence, rules, boundedText(read.ip(client), t.ip), boundedText(read.userAgent(inner), t.userAgent), boundedText(read.authMethod(inner), t.authMethod),
    boundedText(read.actorType(inner), t.actorType), boundedText(read.assetType(asset), t.assetType), boundedText(read.assetId(asset), t.assetId),
    boundedText(read.assetName(asset), t.assetName));
  const country = countryCode(read.country(client));
  if (country !== undefined || derived !== undefined) addDerivedEvidence(evidence, country, derived);
  // An ongoing burst's later events are rarely among its 10 earliest: skip them before building a sample.
  if (!mayBeSample(evidence.samples, ts)) return;
  sampleAdd(evidence.samples, {
    id: boundedText(event.id, t.sampleId) ?? '',
    timestamp: new Date(ts).toISOString(),
    rule: boundedText(rules[0], t.ruleId) ?? '',
    message: boundedText(event.attributes?.message, t.message) ?? '',
  });
}

/** Folds `from` into `into`, in place, within the same bounds (e.g. the evidence of two scans of one burst). */
export function mergeEvidence(into: EvidenceState, from: EvidenceState): void {
  const tracked = EVIDENCE_LIMITS.trackedFactor;
  for (const [value, count] of from.ips) tallyAdd(into.ips, value, EVIDENCE_LIMITS.ips * tracked, count);
  for (const [value, count] of from.userAgents) tallyAdd(into.userAgents, value, EVIDENCE_LIMITS.userAgents * tracked, count);
  for (const value of from.authMethods) distinctAdd(into.authMethods, value, EVIDENCE_LIMITS.authMethods);
  for (const value of from.actorTypes) distinctAdd(into.actorTypes, value, EVIDENCE_LIMITS.actorTypes);
  for (const rule of Object.keys(from.assets)) {
    for (const asset of from.assets[rule]) assetAdd(into, rule, asset.type, asset.id, asset.name, asset.count);
  }
  for (const sample of from.samples) sampleAdd(into.samples, sample);
  for (const [value, count] of from.countries ?? []) tallyAdd((into.countries ??= []), value, EVIDENCE_LIMITS.countries * tracked, count);
  for (const seen of from.newValues ?? []) newValueAdd(into, seen);
  if (from.travel !== undefined) addDerivedEvidence(into, undefined, { travel: from.travel });
}

function ranked(tally: Tally, limit: number): string[] {
  // Ties keep the order values were first seen in (the sort is stable).
  const sorted = tally.slice().sort((a, b) => b[1] - a[1]);
  const values: string[] = [];
  for (let i = 0; i < sorted.length && i < limit; i++) values.push(sorted[i][0]);
  return values;
}

/** The evidence as an incident shows it: ips and user agents most frequent first, assets most touched first. */
export function showEvidence(state: EvidenceState | undefined): Evidence {
  if (state === undefined) return { ips: [], userAgents: [], authMethods: [], actorTypes: [], assets: {}, samples: [] };
  const assets: Record<string, EvidenceAsset[]> = {};
  for (const rule of Object.keys(state.assets)) {
    // Copied, then sorted: the sort is stable, so the order is that of sorting the list itself.
    assets[rule] = state.assets[rule].map((asset) => ({ ...asset })).sort((a, b) => b.count - a.count);
  }
  // Keys in the order the incident's JSON has always shown them, the catalog v3 ones only when there is something.
  const shown: Evidence = {
    ips: ranked(state.ips, EVIDENCE_LIMITS.ips),
    userAgents: ranked(state.userAgents, EVIDENCE_LIMITS.userAgents),
    authMethods: state.authMethods.slice(),
    actorTypes: state.actorTypes.slice(),
    assets,
    samples: state.samples.map((sample) => ({ ...sample })),
  };
  if (state.countries?.length) shown.countries = ranked(state.countries, EVIDENCE_LIMITS.countries);
  if (state.newValues?.length) shown.newValues = state.newValues.map((seen) => ({ ...seen, seenBefore: [...seen.seenBefore] }));
  if (state.travel) shown.travel = { from: { ...state.travel.from }, to: { ...state.travel.to }, km: state.travel.km, kmh: state.travel.kmh };
  return shown;
}
