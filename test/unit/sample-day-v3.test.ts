import { auditQueryFor } from '../../src/detection/query';
import { dryRunEvents } from '../../src/replay/dry-run';
import { matches, parseQuery } from '../../sim/datadog-query';
import { sampleDay } from '../../sim/sample-day';
import type { AuditEventJson } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

/**
 * The located sample day (catalog v3): the day's five bursts page as before, plus a new-country page and an
 * impossible-travel page; and what the learning set costs a run, measured with the Datadog simulator's own query
 * matcher over the day's 5-minute runs (each reads its window and the 5-minute lateness overlap).
 */
const END = new Date('2026-11-24T18:00:00Z');
const V2_ONLY = 'detection:\n  rules:\n    - { id: new_country_sensitive, enabled: false }\n    - { id: impossible_travel, enabled: false }\n    - { id: multi_rule, enabled: false }\n';

const summary = (incidents: Array<{ actor: string; severity: string; rules: string[] }>) => incidents.map((i) => `${i.actor} ${i.severity} ${i.rules.join('+')}`).sort();

test('the located sample day pages its five bursts as before, and a new country and an impossible travel', () => {
  const plain = dryRunEvents(sampleDay({ end: END }), 0, argsFrom());
  const located = dryRunEvents(sampleDay({ end: END, located: true }), 0, argsFrom());
  expect(summary(located.incidents)).toEqual([
    ...summary(plain.incidents),
    // Also impossible travel: his session was in the United States hours before.
    'gus6@example.com warning new_country_sensitive+impossible_travel',
    'hana7@example.com warning impossible_travel',
  ].sort());
  const gus = located.incidents.find((i) => i.actor === 'gus6@example.com')!;
  expect(gus.title).toContain('first sensitive change from Romania (seen before: United States)');
  const hana = located.incidents.find((i) => i.actor === 'hana7@example.com')!;
  expect(hana.title).toContain('New York → Singapore, 15,300 km in 40 min');
  // The bursts are the same incidents (asset ids aside: the builders number assets across calls in one process).
  const facts = ({ actor, severity, rules, counts, firstSeen, lastSeen, dedupKey, title }: (typeof plain.incidents)[number]) => ({ actor, severity, rules, counts, firstSeen, lastSeen, dedupKey, title });
  for (const incident of plain.incidents) expect(facts(located.incidents.find((i) => i.dedupKey === incident.dedupKey)!)).toEqual(facts(incident));
});

test('npm start\'s sample (careful attackers in the last minutes) pages the same in a dry-run of its sample-day.jsonl', () => {
  const spread = dryRunEvents(sampleDay({ end: END, located: true }), 0, argsFrom());
  const atEnd = dryRunEvents(sampleDay({ end: END, located: true, carefulAt: 'end' }), 0, argsFrom());
  expect(summary(atEnd.incidents)).toEqual(summary(spread.incidents));
  const hana = atEnd.incidents.find((i) => i.actor === 'hana7@example.com')!;
  expect(hana.title).toContain('New York → Singapore, 15,300 km in 40 min');
  // Within the first live run's lookback (15 minutes), as the dev stack needs.
  for (const actor of ['gus6@example.com', 'hana7@example.com']) {
    expect(END.getTime() - Date.parse(atEnd.incidents.find((i) => i.actor === actor)!.lastSeen)).toBeLessThan(15 * 60_000);
  }
});

/** Events and pages the live runs of the day would read with this config's server-side query. */
function readCost(events: AuditEventJson[], yaml: string, pageLimit = 1000): { events: number; pages: number; runs: number } {
  const args = argsFrom(yaml);
  const query = parseQuery(auditQueryFor(args.detection.rules, args.detection.readOnlyActions, args.datadog.query));
  const interval = args.cadence.intervalMs;
  const lateness = args.cadence.latenessMs;
  const times = events.filter((e) => matches(query, e.attributes)).map((e) => Date.parse(e.attributes.timestamp)).sort((a, b) => a - b);
  const dayStart = END.getTime() - 24 * 3_600_000;
  let read = 0;
  let pages = 0;
  let runs = 0;
  for (let from = dayStart; from < END.getTime(); from += interval, runs++) {
    const n = times.filter((t) => t >= from - lateness && t < from + interval).length;
    read += n;
    pages += Math.max(1, Math.ceil(n / pageLimit));
  }
  return { events: read, pages, runs };
}

test('what the learning set costs the runs of the sample day (v3 query vs v2)', () => {
  const day = sampleDay({ end: END, located: true }).filter((e) => Date.parse(e.attributes.timestamp) >= END.getTime() - 24 * 3_600_000);
  const v2 = readCost(day, V2_ONLY);
  const v3 = readCost(day, '');
  const v3Small = readCost(day, '', 10);
  // eslint-disable-next-line no-console
  console.log(`sample day, ${v2.runs} runs: v2 query reads ${v2.events} events in ${v2.pages} pages; v3 ${v3.events} events in ${v3.pages} pages ` +
    `(+${v3.events - v2.events} events, +${((v3.events / v2.events - 1) * 100).toFixed(0)}%); with 10-event pages ${v3Small.pages} pages`);
  expect(v3.events).toBeGreaterThan(v2.events);
  // Page count at Datadog's 1000-event pages stays one per run on this day: the widening costs events, not requests.
  expect(v3.pages).toBe(v2.pages);
  // The learning set is a person's login/created/modified/deleted with geoip: never a read.
  const args = argsFrom('');
  const query = parseQuery(auditQueryFor(args.detection.rules, args.detection.readOnlyActions, ''));
  expect(day.filter((e) => matches(query, e.attributes) && ['accessed', 'listed'].includes(String(e.attributes.attributes.action)))).toEqual([]);
});
