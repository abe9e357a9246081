import type { AuditSpikeArgs } from '../config/args-schema';
import { plural } from '../detection/grammar';
import type { SuppressedBurst } from '../detection/scan';
import type { AuditEventLike } from '../detection/types';
import { Replayer, arraySource, timeOrder, type ReplayReport, type ReplaySource } from './engine';
import { openEventsFile, type EventsFileFormat, type EventsFileOptions, type SkipCounts } from './events-file';
import type { ActorWatch } from './explain-collect';
import { formatIncidents, toIncidentOutput, type IncidentOutput } from './incidents';

export interface DryRunOutput {
  /** Events read (elements of data[] or of an array, event lines), plus lines or values that were not JSON. */
  eventsRead: number;
  eventsSkipped: number;
  /** Scheduled runs the replay covers (empty ones included). */
  runs: number;
  incidents: IncidentOutput[];
  suppressed: SuppressedBurst[];
  /** Events that counted toward some rule. */
  sensitiveEvents: number;
  /** Of those, events with no user, service account or API key, grouped under the actor "unknown". */
  unknownActorEvents: number;
  /** Of `runs`, those simulated; the rest read nothing while nothing was carried, and were skipped. */
  runsSimulated: number;
  /** The shape the file had: JSON Lines, API responses ({"data": [...]}), a JSON array, several of them, or none. */
  format: EventsFileFormat | 'events';
  /** Why each skipped event was skipped; the counts add up to eventsSkipped. */
  skipped: SkipCounts;
  /** The event times accepted (ISO); an event outside is implausible, skipped and counted. */
  acceptedTimestamps?: { earliest: string; latest: string };
  /** What the reader should know but that does not stop the verdict (some events skipped). */
  warnings: string[];
  /**
   * Set when the input cannot support a verdict: no event read, no usable timestamp, or more than half of the events
   * skipped (`SKIPPED_SHARE_LIMIT`). The command then exits 3 and never says "Quiet".
   */
  inputProblem: string | null;
}

/** More than this share of events skipped and the replay is no verdict: the command exits 3. */
export const SKIPPED_SHARE_LIMIT = 0.5;
export const INPUT_PROBLEM_EXIT = 3;

const SKIP_WORDS: Record<keyof SkipCounts, string> = {
  notJson: 'not JSON',
  notAnEvent: 'not an audit event (no attributes.attributes)',
  noTimestamp: 'without a usable attributes.timestamp',
  implausibleTimestamp: 'with an implausible timestamp',
};

function skipPhrase(skipped: SkipCounts, leaveOut?: keyof SkipCounts): string {
  return (Object.keys(SKIP_WORDS) as Array<keyof SkipCounts>).filter((key) => skipped[key] > 0 && key !== leaveOut).map((key) => `${skipped[key]} ${SKIP_WORDS[key]}`).join(', ');
}

const iso = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms));

interface InputFacts {
  read: number;
  skipped: SkipCounts;
  format: DryRunOutput['format'];
  accepted?: { earliestMs: number; latestMs: number };
  implausible?: { earliest: number; latest: number };
}

function build(report: ReplayReport, facts: InputFacts): DryRunOutput {
  const { skipped, read } = facts;
  const eventsSkipped = skipped.notJson + skipped.notAnEvent + skipped.noTimestamp + skipped.implausibleTimestamp;
  const warnings: string[] = [];
  if (skipped.implausibleTimestamp > 0 && facts.accepted && facts.implausible) {
    const { earliest, latest } = facts.implausible;
    const seconds = earliest < Date.UTC(1971, 0, 1) ? ' (a time in 1970 is often epoch seconds read as milliseconds)' : '';
    warnings.push(`${plural(skipped.implausibleTimestamp, 'event')} skipped for an implausible timestamp (${earliest === latest ? iso(earliest) : `${iso(earliest)} … ${iso(latest)}`}), ` +
      `outside ${iso(facts.accepted.earliestMs)} … ${iso(facts.accepted.latestMs)}${seconds}; widen the range with --earliest and --latest`);
  }
  let inputProblem: string | null = null;
  const usable = read - eventsSkipped;
  const shapes = 'JSON Lines of events, a saved API response {"data": [...]} (one page or several), or a JSON array of events';
  if (read === 0) inputProblem = `no event read: the file holds no audit event; expected ${shapes}`;
  else if (usable === 0) inputProblem = `none of the ${plural(read, 'event')} read has a usable timestamp (${skipPhrase(skipped)}); expected ${shapes}`;
  else if (eventsSkipped > read * SKIPPED_SHARE_LIMIT) {
    inputProblem = `${eventsSkipped} of the ${plural(read, 'event')} read were skipped (${skipPhrase(skipped)}): more than half, so this is no verdict on the file; expected ${shapes}`;
  } else if (eventsSkipped > skipped.implausibleTimestamp) {
    // Implausible timestamps have their own warning above.
    warnings.push(`${plural(eventsSkipped - skipped.implausibleTimestamp, 'event')} skipped: ${skipPhrase(skipped, 'implausibleTimestamp')}`);
  }
  return {
    eventsRead: read,
    eventsSkipped,
    runs: report.runs,
    incidents: toIncidentOutput(report.incidents),
    suppressed: report.suppressed,
    sensitiveEvents: report.counters.matched,
    unknownActorEvents: report.counters.unknownActor,
    runsSimulated: report.runsSimulated,
    format: facts.format,
    skipped,
    ...(facts.accepted ? { acceptedTimestamps: { earliest: iso(facts.accepted.earliestMs), latest: iso(facts.accepted.latestMs) } } : {}),
    warnings,
    inputProblem,
  };
}

/** The product card's "run once against a sample": what the live schedule would have paged for these events. */
export function dryRunEvents(events: AuditEventLike[], badLines: number, args: AuditSpikeArgs, watch?: ActorWatch): DryRunOutput {
  const { ordered, unusable } = timeOrder(events);
  const skipped = { notJson: badLines, notAnEvent: 0, noTimestamp: unusable, implausibleTimestamp: 0 };
  return build(new Replayer(arraySource(ordered), args, watch).finish(), { read: events.length + badLines, skipped, format: 'events' });
}

/**
 * The same for a file, read in chunks and replayed in time order without holding its events (events-file.ts): memory
 * follows the number of usable events (24 bytes each) and the busiest run, not the file's size.
 */
export function dryRunFile(path: string, options: EventsFileOptions, args: AuditSpikeArgs, watch?: ActorWatch): DryRunOutput {
  // A file in time order is replayed as it is read; one out of order is replayed after, from its index.
  let following: Replayer | undefined;
  const file = openEventsFile(path, options, (source: ReplaySource) => {
    const replayer = (following = new Replayer(source, args, watch));
    return (known, nextTs) => replayer.advance(known, nextTs);
  });
  try {
    const inOrder = file.inOrder && following !== undefined;
    // Out of order: replayed again from the index, and watched again from the start.
    if (!inOrder) watch?.reset();
    const report = (inOrder ? following! : new Replayer(file, args, watch)).finish();
    return build(report, {
      read: file.read, skipped: file.skipped, format: file.format, accepted: { earliestMs: options.earliestMs, latestMs: options.latestMs },
      ...(file.implausible ? { implausible: file.implausible } : {}),
    });
  } finally {
    file.close();
  }
}

export function formatDryRun(output: DryRunOutput): string {
  const lines: string[] = [];
  if (output.inputProblem) lines.push(`NO VERDICT: ${output.inputProblem}.`);
  const skippedRuns = output.runs - output.runsSimulated;
  const runs = `${plural(output.runs, 'simulated run')}${skippedRuns > 0 ? ` (${skippedRuns} with no event to read skipped)` : ''}`;
  lines.push(`Read ${plural(output.eventsRead, 'event')} (${output.eventsSkipped} skipped) in ${runs}; ${output.sensitiveEvents} sensitive.`);
  for (const warning of output.warnings) lines.push(`Warning: ${warning}.`);
  if (output.unknownActorEvents > 0) {
    lines.push(`${plural(output.unknownActorEvents, 'sensitive event')} had no user, service account or API key: they are grouped as actor "unknown".`);
  }
  const incidents = formatIncidents(output.incidents, output.suppressed);
  // Never "Quiet" on input that could not be read: say what was read instead.
  lines.push(...(output.inputProblem ? incidents.filter((line) => !line.startsWith('Quiet')) : incidents));
  if (output.inputProblem && output.incidents.length === 0) lines.push('Not quiet: too little of the file could be read to say whether anything would have paged.');
  return lines.join('\n');
}
