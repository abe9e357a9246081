import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../src/config/load';
import { Detector } from '../src/detection/detector';
import { eventTimestamp } from '../src/detection/event-fields';
import { lateAfterMs } from '../src/detection/plan';
import { Scan } from '../src/detection/scan';
import { emptyState, type CarriedState } from '../src/detection/state';
import { loadCoreEvents } from './core-events';
import { nowMs } from './stats';
import { writeCoreDataset } from './synthetic';

/**
 * A diagnosis, not part of `npm run bench`: where the detection core's day goes, on the bench's own 1,000,000 events
 * and loop (one `Scan` per 5-minute run). Times `scan.add` and `scan.finish()` separately, and within `finish()` the
 * pass over the carried actors (its private `settleActors`, wrapped with a timer). Prints the minimum of the
 * repetitions after the first two (warm-up), in ms per day.
 *
 * Usage: npm run build && node dist/bench/core-phases.js [EVENTS] [REPETITIONS]
 */

interface Phases {
  total: number;
  add: number;
  finish: number;
  settle: number;
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 1_000_000);
  const repetitions = Math.max(3, Number(process.argv[3] ?? 12));
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-phases-'));
  let events;
  try {
    const file = join(dir, 'events.jsonl');
    await writeCoreDataset(file, total);
    events = await loadCoreEvents(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { cadence, detection } = parseConfigText('org: bench', 'bench config').args;
  const detector = new Detector(detection, cadence.latenessMs);
  const interval = cadence.intervalMs;
  const first = Math.floor(eventTimestamp(events[0]) / interval) * interval;

  let settleMs = 0;
  const prototype = Scan.prototype as unknown as { settleActors: (...args: unknown[]) => void };
  const settle = prototype.settleActors;
  prototype.settleActors = function timed(this: unknown, ...args: unknown[]) {
    const start = nowMs();
    settle.apply(this, args);
    settleMs += nowMs() - start;
  };

  const day = (): Phases => {
    let state: CarriedState = emptyState(first);
    let i = 0;
    let addMs = 0;
    let finishMs = 0;
    settleMs = 0;
    const start = nowMs();
    for (let from = first; i < events.length; from += interval) {
      const window = { readFrom: from, from, to: from + interval };
      const scan = Scan.start(detector, { orgId: 'bench', window, runAt: window.to + cadence.ingestionDelayMs, lateAfterMs: lateAfterMs(cadence) }, state);
      const addStart = nowMs();
      while (i < events.length && eventTimestamp(events[i]) < window.to) scan.add(events[i++]);
      const finishStart = nowMs();
      state = scan.finish().state;
      finishMs += nowMs() - finishStart;
      addMs += finishStart - addStart;
    }
    return { total: nowMs() - start, add: addMs, finish: finishMs, settle: settleMs };
  };

  const measured: Phases[] = [];
  for (let r = 0; r < repetitions; r++) measured.push(day());
  const kept = measured.slice(2);
  const min = (key: keyof Phases) => Math.min(...kept.map((phases) => phases[key])).toFixed(1);
  process.stdout.write(`${events.length} events, minimum of ${kept.length} repetitions after 2 warm-ups, ms per day:\n`);
  process.stdout.write(`  whole day ${min('total')}\n  scan.add ${min('add')}\n  scan.finish() ${min('finish')}\n`);
  process.stdout.write(`    of which the pass over the carried actors ${min('settle')}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
