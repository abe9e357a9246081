import { parseConfigText } from '../src/config/load';
import { Detector } from '../src/detection/detector';
import { eventTimestamp, innerAttributes } from '../src/detection/event-fields';
import { lateAfterMs } from '../src/detection/plan';
import { Scan } from '../src/detection/scan';
import { emptyState, type CarriedState } from '../src/detection/state';
import { bareCorePass } from './bare-core';
import { loadCoreEvents } from './core-events';
import { median, nowMs } from './stats';

/**
 * Detection-core throughput, in a child process of `npm run bench` (its own heap, nothing else running in it).
 *
 * The events are read from the JSONL the orchestrator wrote and turned into the objects the activity receives: each
 * line is `JSON.parse`d on its own, as the scan parses each event of a page (src/activities/audit-page.ts; plain
 * objects, the timestamp an ISO string). That is transport work and is not timed, as ElastAlert2's side does not
 * time its JSON parsing either; the timestamp's conversion is timed, in the core and in the floor alike.
 *
 * Timed: what `scanAuditEvents` does with the pages of every 5-minute scheduled run of the day: `Scan.start` with the
 * previous run's carried state, `scan.add(event)` for each event (timestamp, classification against the default
 * catalog, actor, de-duplication by event id, sliding windows, tiers, incident lifecycle), `scan.finish()`
 * (summaries, pruning). Not timed: the heartbeat serialisation and HTTP, which the full-run measurement covers.
 *
 * Usage: node dist/bench/core.js EVENTS.jsonl REPETITIONS
 * Prints one JSON object on stdout.
 */

interface RepResult {
  ms: number;
  actions: number;
  matched: number;
  read: number;
}

async function main(): Promise<void> {
  const [path, repsText] = process.argv.slice(2);
  const repetitions = Number(repsText ?? 5);
  const config = parseConfigText('org: bench', 'bench config');
  const { cadence, detection } = config.args;
  const detector = new Detector(detection, cadence.latenessMs);

  const loadStart = nowMs();
  const events = await loadCoreEvents(path);
  const loadMs = nowMs() - loadStart;
  const sample = events[0] as { attributes?: { timestamp?: unknown } };
  const timestampType = sample.attributes?.timestamp?.constructor?.name ?? typeof sample.attributes?.timestamp;

  // Run boundaries (not timed): each scheduled run reads [k * interval, (k + 1) * interval) of event time.
  const interval = cadence.intervalMs;
  const first = Math.floor(eventTimestamp(events[0]) / interval) * interval;
  const cuts: number[] = [];
  let index = 0;
  for (let to = first + interval; index < events.length; to += interval) {
    while (index < events.length && eventTimestamp(events[index]) < to) index++;
    cuts.push(index);
  }

  const once = (): RepResult => {
    let state: CarriedState = emptyState(first);
    let actions = 0;
    let matched = 0;
    let read = 0;
    let i = 0;
    const start = nowMs();
    for (let k = 0; k < cuts.length; k++) {
      const from = first + k * interval;
      const window = { readFrom: from, from, to: from + interval };
      const scan = Scan.start(detector, { orgId: 'bench', window, runAt: window.to + cadence.ingestionDelayMs, lateAfterMs: lateAfterMs(cadence) }, state);
      const end = cuts[k];
      for (; i < end; i++) scan.add(events[i]);
      const result = scan.finish();
      actions += result.actions.length;
      matched += result.counters.matched;
      read += result.counters.read;
      state = result.state;
    }
    return { ms: nowMs() - start, actions, matched, read };
  };

  // The same events in a single scan (one window over the whole day): the per-run costs (state copy in Scan.start,
  // finish, pruning) paid once instead of once per 5-minute run. A diagnosis, not the headline.
  const oneScan = (): number => {
    const window = { readFrom: first, from: first, to: first + cuts.length * interval };
    const start = nowMs();
    const scan = Scan.start(detector, { orgId: 'bench', window, runAt: window.to + cadence.ingestionDelayMs, lateAfterMs: lateAfterMs(cadence) }, emptyState(first));
    for (let j = 0; j < events.length; j++) scan.add(events[j]);
    scan.finish();
    return nowMs() - start;
  };

  // Classification alone (timestamp + rule match), for the diagnosis of where the time goes.
  const classifyOnly = (): number => {
    const start = nowMs();
    let hits = 0;
    for (let j = 0; j < events.length; j++) {
      const inner = innerAttributes(events[j]);
      // One parse, as the core and the floor do (this diagnosis used to parse every timestamp twice).
      const ts = eventTimestamp(events[j]);
      if (ts !== ts) continue;
      if (inner && detector.rules.match(inner)) hits++;
    }
    if (hits < 0) throw new Error('unreachable');
    return nowMs() - start;
  };

  // The floor: only reading the fields every event needs (its timestamp, action and asset type), no logic. The events
  // are a million separate object graphs, so this is mostly memory latency; nothing that reads them can be faster.
  const readOnly = (): number => {
    const start = nowMs();
    let sum = 0;
    for (let j = 0; j < events.length; j++) {
      const inner = innerAttributes(events[j]);
      const asset = inner?.asset as { type?: string } | undefined;
      sum += eventTimestamp(events[j]) + String(inner?.action ?? '').length + (asset?.type?.length ?? 0);
    }
    if (sum === 0) throw new Error('unreachable');
    return nowMs() - start;
  };

  const warmup = once();
  classifyOnly();
  oneScan();
  readOnly();
  const bareCrossings = bareCorePass(detector, events).crossings;
  const reps: RepResult[] = [];
  const classify: number[] = [];
  const single: number[] = [];
  const floor: number[] = [];
  const bare: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    reps.push(once());
    classify.push(classifyOnly());
    single.push(oneScan());
    floor.push(readOnly());
    bare.push(bareCorePass(detector, events).ms);
  }
  const rates = reps.map((rep) => (events.length / rep.ms) * 1000);
  process.stdout.write(
    `${JSON.stringify({
      events: events.length,
      runs: cuts.length,
      timestampType,
      loadMs,
      warmupMs: warmup.ms,
      repetitions,
      msPerRep: reps.map((rep) => rep.ms),
      eventsPerS: median(rates),
      eventsPerSAll: rates,
      classifyOnlyEventsPerS: median(classify.map((ms) => (events.length / ms) * 1000)),
      oneScanEventsPerS: median(single.map((ms) => (events.length / ms) * 1000)),
      readFieldsOnlyEventsPerS: median(floor.map((ms) => (events.length / ms) * 1000)),
      bareCoreEventsPerS: median(bare.map((ms) => (events.length / ms) * 1000)),
      bareCoreCrossings: bareCrossings,
      matched: reps[0].matched,
      read: reps[0].read,
      incidentActions: reps[0].actions,
      heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
    })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
