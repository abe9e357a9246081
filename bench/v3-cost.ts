import { parseConfigText } from '../src/config/load';
import { Detector } from '../src/detection/detector';
import { eventTimestamp } from '../src/detection/event-fields';
import { Baselines } from '../src/detection/methods/baseline';
import { lateAfterMs } from '../src/detection/plan';
import { auditQueryFor } from '../src/detection/query';
import { Scan } from '../src/detection/scan';
import { emptyState, type CarriedState } from '../src/detection/state';
import type { AuditEventLike } from '../src/detection/types';
import { matches, parseQuery } from '../sim/datadog-query';
import { LOCATED_DAYS, sampleDay } from '../sim/sample-day';
import { median, nowMs } from './stats';

/** The catalog v3 rules (design.md); without them the default catalog is what v2 was. */
const V3_RULES = new Set(['new_country_sensitive', 'impossible_travel', 'multi_rule']);
export const PAGE_EVENTS = 1_000;

export interface V3Cost {
  events: number;
  runs: number;
  /** Events and pages the server-side query hands the scan, over every 5-minute run of the located sample day. */
  v2: { eventsRead: number; pages: number; replayMs: number; incidents: number };
  v3: { eventsRead: number; pages: number; replayMs: number; incidents: number; persons: number };
  eventsReadRatio: number;
  pagesRatio: number;
  /** The scan's time over every run (median replay, v3 over v2): the widened read folded and the baselines taught. */
  scanTimeRatio: number;
}

/**
 * Catalog v3's extra cost (#23), measured on the located sample day (nine days of everyday logins with geoip before it,
 * the two careful attackers in it): what the widened query reads (the learning set) and what the scan does with it
 * (baselines looked at and taught), against the same catalog without the v3 rules. In process, no HTTP: the query is
 * evaluated by the Datadog simulator's own matcher, the runs are the Schedule's 5-minute windows.
 */
export function measureV3Cost(repetitions = 3): V3Cost {
  const end = new Date(Date.UTC(2026, 10, 25, 0, 0, 0));
  const all = sampleDay({ end, located: true }) as unknown as AuditEventLike[];
  all.sort((a, b) => eventTimestamp(a) - eventTimestamp(b));
  const config = parseConfigText('org: bench-v3', 'bench config');
  const { cadence, detection } = config.args;
  const v2Detection = { ...detection, rules: detection.rules.map((rule) => (V3_RULES.has(rule.id) ? { ...rule, enabled: false } : rule)) };
  const interval = cadence.intervalMs;
  const first = Math.floor(eventTimestamp(all[0]) / interval) * interval;
  const last = eventTimestamp(all[all.length - 1]);
  const runs = Math.ceil((last + 1 - first) / interval);

  const side = (settings: typeof detection, learns: boolean) => {
    const query = parseQuery(auditQueryFor(settings.rules, settings.readOnlyActions, ''));
    const read = all.filter((event) => matches(query, (event as { attributes?: object }).attributes ?? {}));
    let pages = 0;
    for (let i = 0, k = 0; k < runs; k++) {
      const to = first + (k + 1) * interval;
      let n = 0;
      while (i < read.length && eventTimestamp(read[i]) < to) {
        i++;
        n++;
      }
      pages += Math.max(1, Math.ceil(n / PAGE_EVENTS));
    }
    const detector = new Detector(settings, cadence.latenessMs);
    const replay = () => {
      const baselines = learns ? new Baselines() : undefined;
      let state: CarriedState = emptyState(first);
      let incidents = 0;
      const start = nowMs();
      for (let i = 0, k = 0; k < runs; k++) {
        const from = first + k * interval;
        const window = { readFrom: from, from, to: from + interval };
        const scan = Scan.start(detector, { orgId: 'bench', window, runAt: window.to + cadence.ingestionDelayMs, lateAfterMs: lateAfterMs(cadence), ...(baselines ? { baselines } : {}) }, state);
        while (i < read.length && eventTimestamp(read[i]) < window.to) scan.add(read[i++]);
        const result = scan.finish();
        incidents += result.actions.filter((action) => action.kind === 'trigger').length;
        state = result.state;
      }
      return { ms: nowMs() - start, incidents, persons: baselines?.size ?? 0 };
    };
    replay();
    const reps = Array.from({ length: repetitions }, replay);
    return { eventsRead: read.length, pages, replayMs: median(reps.map((r) => r.ms)), incidents: reps[0].incidents, persons: reps[0].persons };
  };

  const v2 = side(v2Detection, false);
  const v3 = side(detection, true);
  return {
    events: all.length,
    runs,
    v2: { eventsRead: v2.eventsRead, pages: v2.pages, replayMs: v2.replayMs, incidents: v2.incidents },
    v3: { eventsRead: v3.eventsRead, pages: v3.pages, replayMs: v3.replayMs, incidents: v3.incidents, persons: v3.persons },
    eventsReadRatio: v3.eventsRead / Math.max(1, v2.eventsRead),
    pagesRatio: v3.pages / Math.max(1, v2.pages),
    scanTimeRatio: v3.replayMs / v2.replayMs,
  };
}

/** Days the located sample day spans: its everyday logins start this many days before it. */
export const V3_SAMPLE_DAYS = LOCATED_DAYS + 1;
