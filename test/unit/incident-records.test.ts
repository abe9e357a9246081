import { boundIncidentRecords, MAX_RESULT_INCIDENTS } from '../../src/workflows/incident-records';
import type { IncidentRecord } from '../../src/workflows/run-result';

function record(i: number, messageChars: number): IncidentRecord {
  return {
    kind: 'trigger', actor: `user${i}@example.com`, severity: 'error', rules: ['role_grant'], counts: { role_grant: 3 }, events: 3,
    firstSeen: '2026-11-24T10:00:00.000Z', lastSeen: '2026-11-24T10:05:00.000Z', dedupKey: `audit-spike-${i}`, late: false,
    evidence: {
      ips: ['203.0.113.5'], userAgents: [], authMethods: ['SESSION'], actorTypes: ['USER'], assets: {},
      samples: [{ id: `e${i}`, timestamp: '2026-11-24T10:00:00.000Z', rule: 'role_grant', message: 'é'.repeat(messageChars) }],
    },
  };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

test('a run with few incidents keeps every record and its evidence, and says nothing', () => {
  const records = [record(1, 10), record(2, 10)];
  expect(boundIncidentRecords(records)).toEqual({ records });
});

test('evidence is kept while it fits the budget, counted in UTF-8 bytes; later records keep their facts without it', () => {
  const records = Array.from({ length: 10 }, (_, i) => record(i, 5_000));
  const one = bytes(records[0].evidence);
  expect(one).toBeGreaterThan(10_000); // é is two bytes: a count in UTF-16 units would let twice as many through
  const { records: bounded, leftOut } = boundIncidentRecords(records, 3 * one + 10);
  expect(bounded.map((r) => r.evidence !== undefined)).toEqual([true, true, true, false, false, false, false, false, false, false]);
  const { evidence: _dropped, ...facts } = records[5];
  expect(bounded[5]).toStrictEqual(facts);
  expect(leftOut).toBe('the evidence of 7 incident(s) left out of this result to stay under its size budget (their PagerDuty incidents carry it)');
});

test('at most MAX_RESULT_INCIDENTS records, and the result says how many were left out', () => {
  const records = Array.from({ length: MAX_RESULT_INCIDENTS + 20 }, (_, i) => record(i, 1));
  const { records: bounded, leftOut } = boundIncidentRecords(records);
  expect(bounded).toHaveLength(MAX_RESULT_INCIDENTS);
  expect(leftOut).toBe(`20 of ${MAX_RESULT_INCIDENTS + 20} incident records left out of this result`);
});

test('the default budget keeps a result of 100 worst-case incidents far under Temporal\'s 2 MiB payload limit', () => {
  const records = Array.from({ length: MAX_RESULT_INCIDENTS }, (_, i) => record(i, 20_000));
  const { records: bounded } = boundIncidentRecords(records);
  expect(bytes(bounded)).toBeLessThan(512 * 1024);
});
