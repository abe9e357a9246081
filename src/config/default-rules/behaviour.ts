import { defaultMethod } from '../resolve-methods';
import { TEN_MINUTES, type DefaultRule } from './rule';

/**
 * Catalog v3 (design.md "Default rule catalog v3"): what a threshold cannot see. A careful attacker with a stolen
 * session makes one change from abroad, or moves from New York to Singapore in forty minutes; an actor crossing several
 * rules within an hour is one attack, not three.
 */

/** Where Datadog's geoip enrichment puts an event (`network.client.geoip`), as compact test attributes. */
export const PLACES = {
  newYork: { country: 'US', city: 'New York', lat: 40.71427, lon: -74.00597 },
  boston: { country: 'US', city: 'Boston', lat: 42.35843, lon: -71.05977 },
  london: { country: 'GB', city: 'London', lat: 51.50853, lon: -0.12574 },
  singapore: { country: 'SG', city: 'Singapore', lat: 1.28967, lon: 103.85007 },
  bucharest: { country: 'RO', city: 'Bucharest', lat: 44.43225, lon: 26.10626 },
} as const;

type PlaceName = keyof typeof PLACES;

export function geoip(place: PlaceName, withLocation = true): Record<string, unknown> {
  const p = PLACES[place];
  return {
    'network.client.ip': '198.51.100.31',
    'network.client.geoip.country.iso_code': p.country,
    'network.client.geoip.city.name': p.city,
    ...(withLocation ? { 'network.client.geoip.location.latitude': p.lat, 'network.client.geoip.location.longitude': p.lon } : {}),
  };
}

/** `at` of a test event: days and minutes after the test's start. */
export function after(days: number, minutes = 0): string {
  return `${days * 1440 + minutes}m`;
}

const ACTOR = 'alice@example.com';
const login = (place: PlaceName, at: string, extra: Record<string, unknown> = {}) =>
  ({ actor: ACTOR, at, attributes: { 'evt.name': 'Authentication', 'asset.type': 'user', action: 'login', ...geoip(place), ...extra } });
/** One role grant: sensitive (role_grant's conditions) but under its threshold of 3. */
const grant = (place: PlaceName | undefined, at: string, extra: Record<string, unknown> = {}) =>
  ({ actor: ACTOR, at, attributes: { 'evt.name': 'Access Management', 'asset.type': 'role', action: 'modified', 'asset.name': 'Billing Admins', ...(place ? geoip(place) : {}), ...extra } });

const CONTAIN_SESSION = 'Contain: disable the user (Organization Settings > Users), revoke their application keys, and ask them (out of band) whether it was them. Restore: undo each change listed in the evidence.';

export const BEHAVIOUR_RULES: DefaultRule[] = [
  {
    rule: {
      id: 'new_country_sensitive',
      description: 'A person\'s sensitive change from a country not in their baseline (new value, after a 7-day warm-up; countries forgotten after 28 days)',
      enabled: true,
      anyOf: [],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }],
      method: defaultMethod('new_value'),
      runbook: { text: `Check: the country and IP (evidence countries, newValues, ips) against the person's travel, VPN and the identity provider's sign-ins. ${CONTAIN_SESSION}` },
    },
    tests: [
      { name: 'a role grant from a new country after warm-up pages at warning', events: [login('newYork', '0s'), login('newYork', after(3)), grant('bucharest', after(8))], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'warm-up ends at exactly 7 days', events: [login('newYork', '0s'), grant('bucharest', after(7))], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'during warm-up stays quiet', events: [login('newYork', '0s'), grant('bucharest', after(6, 1439))], expect: { pages: false } },
      { name: 'a country of the baseline stays quiet', events: [login('newYork', '0s'), login('bucharest', after(1)), grant('bucharest', after(8))], expect: { pages: false } },
      { name: 'a country last seen exactly 28 days ago is new again', events: [login('newYork', '0s'), login('bucharest', after(1)), login('newYork', after(20)), grant('bucharest', after(29))], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'a login from a new country only teaches', events: [login('newYork', '0s'), login('bucharest', after(8))], expect: { pages: false } },
      { name: 'a change without geoip stays quiet', events: [login('newYork', '0s'), grant(undefined, after(8))], expect: { pages: false } },
      { name: 'a service account is not a person', events: [login('newYork', '0s', { 'evt.actor.type': 'SERVICE_ACCOUNT' }), grant('bucharest', after(8), { 'evt.actor.type': 'SERVICE_ACCOUNT' })], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'impossible_travel',
      description: 'A person\'s located event more than 500 km from their previous one at more than 1000 km/h, unless both countries are in their baseline (after a 7-day warm-up)',
      enabled: true,
      anyOf: [],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }],
      method: defaultMethod('impossible_travel'),
      runbook: { text: `Check: both places and times (evidence travel), and whether one of them is a VPN or proxy the person uses. ${CONTAIN_SESSION}` },
    },
    tests: [
      { name: 'New York then Singapore 40 minutes later pages at warning', events: [login('newYork', '0s'), login('newYork', after(8)), login('singapore', after(8, 40))], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'both countries in the baseline stay quiet', events: [login('newYork', '0s'), login('singapore', after(1)), login('newYork', after(8)), login('singapore', after(8, 40))], expect: { pages: false } },
      { name: 'New York then London 8 hours later is possible', events: [login('newYork', '0s'), login('newYork', after(8)), login('london', after(8, 480))], expect: { pages: false } },
      { name: 'New York then Boston 10 minutes later is too close', events: [login('newYork', '0s'), login('newYork', after(8)), login('boston', after(8, 10))], expect: { pages: false } },
      { name: 'during warm-up stays quiet', events: [login('newYork', '0s'), login('newYork', after(3)), login('singapore', after(3, 40))], expect: { pages: false } },
      { name: 'geoip without a location stays quiet', events: [login('newYork', '0s'), login('newYork', after(8)), { actor: ACTOR, at: after(8, 40), attributes: { 'evt.name': 'Authentication', 'asset.type': 'user', action: 'login', ...geoip('singapore', false) } }], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'multi_rule',
      description: 'An actor crossing a rule while they have crossed 2 other distinct rules (any method) within the past 60 minutes',
      enabled: true,
      anyOf: [],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'critical' }],
      method: defaultMethod('multi_rule'),
      runbook: { text: 'Check: the rules crossed together (counts, evidence): several kinds of sensitive change by one actor within an hour is one intrusion, not several. Contain: disable the actor and revoke their keys. Restore: undo each change listed in the evidence.' },
    },
    tests: [
      {
        name: 'three distinct rules within an hour page at critical',
        events: [
          { actor: 'mallory@example.com', at: '0s', attributes: { 'evt.name': 'Security Monitoring', 'asset.type': 'security_rule', action: 'deleted' } },
          { actor: 'mallory@example.com', at: '20m', attributes: { 'evt.name': 'Organization Management', 'asset.type': 'identity_provider', action: 'modified' } },
          { actor: 'mallory@example.com', at: '40m', attributes: { 'evt.name': 'Access Management', 'asset.type': 'role', action: 'modified', 'asset.name': 'Datadog Admin Role' } },
        ],
        expect: { pages: true, severity: 'critical', count: 1 },
      },
      {
        name: 'two distinct rules stay without it',
        events: [
          { actor: 'mallory@example.com', at: '0s', attributes: { 'evt.name': 'Security Monitoring', 'asset.type': 'security_rule', action: 'deleted' } },
          { actor: 'mallory@example.com', at: '20m', attributes: { 'evt.name': 'Organization Management', 'asset.type': 'identity_provider', action: 'modified' } },
        ],
        expect: { pages: false },
      },
      {
        name: 'three rules spread over more than an hour stay without it',
        events: [
          { actor: 'mallory@example.com', at: '0s', attributes: { 'evt.name': 'Security Monitoring', 'asset.type': 'security_rule', action: 'deleted' } },
          { actor: 'mallory@example.com', at: '40m', attributes: { 'evt.name': 'Organization Management', 'asset.type': 'identity_provider', action: 'modified' } },
          { actor: 'mallory@example.com', at: '80m', attributes: { 'evt.name': 'Access Management', 'asset.type': 'role', action: 'modified', 'asset.name': 'Datadog Admin Role' } },
        ],
        expect: { pages: false },
      },
    ],
  },
];
