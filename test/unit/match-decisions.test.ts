import type { CompiledClause } from '../../src/detection/conditions';
import { MatchDecisions, UNDECIDED } from '../../src/detection/match-decisions';

/** A clause of `rule` holding when the path of each slot given has exactly its value (lower-case). */
function clause(rule: number, values: Record<number, string>): CompiledClause {
  return { rule, key: -1, conditions: Object.entries(values).map(([slot, value]) => ({ slot: Number(slot), exact: new Set([value]), patterns: [] })) };
}

/** Slot 0 is the action; slot n reads `p<n>`. */
function memo(clauses: CompiledClause[], paths: number) {
  const getters = Array.from({ length: paths }, (_, slot) => (slot === 0 ? (inner: Record<string, unknown>) => inner.action : (inner: Record<string, unknown>) => inner[`p${slot}`]));
  let outcomesWorkedOut = 0;
  const decisions = new MatchDecisions(clauses, getters, 0, new Set(['accessed']), (held) => {
    outcomesWorkedOut++;
    return held.sort((a, b) => a - b);
  });
  return { decisions, outcomesWorkedOut: () => outcomesWorkedOut };
}

describe('the memo of matching decisions', () => {
  test('events repeating a few values are decided from the memo: each outcome is worked out once', () => {
    const { decisions, outcomesWorkedOut } = memo([clause(0, { 0: 'created', 1: 'role' }), clause(1, { 1: 'api_key' })], 2);
    const events = [
      { event: { action: 'created', p1: 'role' }, outcome: [0] },
      { event: { action: 'Created', p1: 'api_key' }, outcome: [1] },
      { event: { action: 'deleted', p1: 'role' }, outcome: undefined },
      { event: { action: 'accessed', p1: 'api_key' }, outcome: undefined },
      { event: { action: 'created' }, outcome: undefined },
    ];
    for (let i = 0; i < 2_000; i++) {
      const { event, outcome } = events[i % events.length];
      expect(decisions.decide(event)).toEqual(outcome);
    }
    expect(outcomesWorkedOut()).toBe(2);
  });

  test('a path read early with a new value for most events: the memo stands aside instead of building a step per event', () => {
    // One watchlist rule on an email, and 30 rules on a path each: the email is read first and is new for each event,
    // and each new email builds a step for each of the 30 paths after it (the memo would start over every 136 events,
    // long before any step holds 256 values).
    const clauses = [clause(0, { 1: 'boss@x' }), ...Array.from({ length: 30 }, (_, i) => clause(i + 1, { [i + 2]: 'x' }))];
    const { decisions } = memo(clauses, 32);
    let undecided = 0;
    for (let i = 0; i < 5_000; i++) {
      const email = i % 100 === 0 ? 'boss@x' : `user${i}@x`;
      const got = decisions.decide({ action: 'created', p1: email, p3: 'x' });
      if (got === UNDECIDED) undecided++;
      else if (email === 'boss@x') expect(got).toEqual([0, 2]);
      else if (i % 7 === 0) expect(got).toEqual([2]);
    }
    // The memo stands aside once the first events have built 1,024 steps (31 per event here), and stays aside.
    expect(undecided).toBeGreaterThanOrEqual(5_000 - 40);
  });

  test('a catalog reading more than 32 paths is left to the condition-by-condition match', () => {
    const clauses = Array.from({ length: 40 }, (_, i) => clause(i, { [i + 1]: 'x' }));
    const { decisions } = memo(clauses, 41);
    expect(decisions.decide({ action: 'created', p1: 'x' })).toBe(UNDECIDED);
  });
});
