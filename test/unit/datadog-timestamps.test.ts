import { v2 } from '@datadog/datadog-api-client';
import { eventTimestamp, parseTimestampText } from '../../src/detection/event-fields';

/** Datadog's timestamps as recorded (cassettes/v2/Audit_2643932488 @ a6d1742), read as the UTC instants they are. */

const UTC = Date.parse('2022-04-13T09:21:13.750Z');

test.each([
  ['2022-04-13T09:21:13.750Z', UTC],
  ['2022-04-13T09:21:13.750599', UTC],
  ['2022-04-13T09:21:13.750599Z', UTC],
  ['2022-04-13T09:29:59Z', Date.parse('2022-04-13T09:29:59Z')],
  ['2022-04-13T09:29:59', Date.parse('2022-04-13T09:29:59Z')],
  ['2022-04-13T11:21:13.750+02:00', UTC],
  [String(UTC), UTC],
])('%s reads as UTC', (text, expected) => {
  expect(parseTimestampText(text)).toBe(expected);
});

test.each(['2022-02-30T00:00:00Z', '2022-04-13T25:00:00', 'yesterday', ''])('%s is unusable', (text) => {
  expect(parseTimestampText(text)).toBeNaN();
});

test('without an outer timestamp the inner one is used; an unusable outer one is not replaced', () => {
  expect(eventTimestamp({ attributes: { attributes: { timestamp: '2022-04-13T09:21:13.750599' } } })).toBe(UTC);
  expect(eventTimestamp({ attributes: { timestamp: 'nope', attributes: { timestamp: '2022-04-13T09:21:13.750599' } } })).toBeNaN();
  expect(eventTimestamp({ attributes: { attributes: {} } })).toBeNaN();
});

test("a Date from the client's deserializer is read from the text it kept, so a zone-less one is UTC whatever TZ the worker runs in", () => {
  const [zoneless, zoned] = ['2022-04-13T09:21:13.750599', '2022-04-13T09:21:13.750Z'].map((text) =>
    (v2 as unknown as { ObjectSerializer: { deserialize(data: unknown, type: string, format: string): unknown } }).ObjectSerializer.deserialize(text, 'Date', 'date-time') as Date);
  expect(zoneless).toBeInstanceOf(Date);
  expect((zoneless as Date & { originalDate?: string }).originalDate).toBe('2022-04-13T09:21:13.750599');
  // The Date's own value is local time for a zone-less text (hours off on a worker outside UTC); the kept text wins.
  expect(eventTimestamp({ attributes: { timestamp: Object.assign(new Date(0), { originalDate: '2022-04-13T09:21:13.750599' }) } })).toBe(UTC);
  expect(eventTimestamp({ attributes: { timestamp: zoneless } })).toBe(UTC);
  expect(eventTimestamp({ attributes: { timestamp: zoned } })).toBe(UTC);
  expect(eventTimestamp({ attributes: { timestamp: new Date(UTC) } })).toBe(UTC);
});
