import { client, v2 } from '@datadog/datadog-api-client';
import { createDatadogAuditClient } from '../../src/activities/datadog-client';
import { scanWindowPages } from '../../src/activities/scan-audit-events';
import { Detector } from '../../src/detection/detector';
import { eventTimestamp } from '../../src/detection/event-fields';
import { emptyState } from '../../src/detection/state';
import { argsFrom } from '../support/settings';
import { invalidCursor, listEmpty, listPaged, searchEmpty, searchPaged, type RecordedExchange } from './fixtures/datadog-audit-cassettes';
import { DatadogReplay } from './support/datadog-replay';
import { APIErrorResponseSchema, AuditLogsEventsResponseSchema, RecordedAuditEventSchema, responseSchemaFor } from './support/datadog-schemas';

/**
 * Datadog's genuine recorded answers (test/contracts/fixtures/datadog-audit-cassettes.ts), replayed by a local server
 * through @datadog/datadog-api-client and the scan's own page loop: they must parse, count and end as Datadog's do.
 */

const all: Array<[string, RecordedExchange]> = [
  ['listEmpty', listEmpty], ['searchEmpty', searchEmpty], ...listPaged.map((e, i) => [`listPaged[${i}]`, e] as [string, RecordedExchange]),
  ...searchPaged.map((e, i) => [`searchPaged[${i}]`, e] as [string, RecordedExchange]), ['invalidCursor', invalidCursor],
];

describe('our schemas hold for every recorded answer', () => {
  test.each(all)('%s', (_name, exchange) => {
    const parsed = responseSchemaFor(exchange.response.status).safeParse(JSON.parse(exchange.response.text));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(exchange.response.contentType).toBe('application/json');
  });

  test('every genuine recorded event has the envelope the simulator must serve', () => {
    const events = [...listPaged, ...searchPaged].filter((e) => e.genuine).flatMap((e) => JSON.parse(e.response.text).data as unknown[]);
    expect(events).toHaveLength(4);
    for (const event of events) {
      const parsed = RecordedAuditEventSchema.safeParse(event);
      expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    }
  });

  test('the genuine 400 is an APIErrorResponse', () => {
    expect(APIErrorResponseSchema.parse(JSON.parse(invalidCursor.response.text))).toEqual({ errors: ["input_validation_error(Field 'page' is invalid: invalid cursor)"] });
  });
});

describe('replayed through the product', () => {
  let replay: DatadogReplay | undefined;
  afterEach(async () => {
    await replay?.stop();
    replay = undefined;
  });

  function scanThrough(replayed: DatadogReplay, window: { readFrom: number; from: number; to: number }) {
    const args = argsFrom('datadog:\n  pageLimit: 2\n');
    const target = { ...args.datadog, baseUrl: replayed.url };
    const dd = createDatadogAuditClient(target, { DD_API_KEY: 'k', DD_APP_KEY: 'a' });
    const detector = new Detector(args.detection, args.cadence.latenessMs);
    const request = { orgId: 'recorded', datadog: target, detection: args.detection, window, runAt: window.to, lateAfterMs: 86_400_000, state: emptyState(window.from) };
    return scanWindowPages(dd, detector, request, { checkpointEveryMs: 0, wait: async () => undefined, checkpoint: () => undefined });
  }

  const recordedWindow = { readFrom: Date.parse('2022-04-13T09:21:00Z'), from: Date.parse('2022-04-13T09:21:00Z'), to: Date.parse('2022-04-13T09:37:00Z') };

  test('the search pages (2 events, 1, then the empty page): 3 pages, 3 events, every timestamp in the window, and the loop ends', async () => {
    replay = await DatadogReplay.start(searchPaged);
    const result = await scanThrough(replay, recordedWindow);
    expect(replay.problems).toEqual([]);
    expect(replay.overrun).toBe(0);
    expect(result.pages).toBe(3);
    expect(result.counters).toMatchObject({ read: 3, skipped: 0, outOfRange: 0, matched: 0 });
    // The recording is from 2022: past any retention, which the scan says.
    expect(result.warnings).toEqual([expect.stringContaining('datadog.retention')]);
  });

  test('a window ending before the last recorded event counts it out of range: the timestamps are read as UTC', async () => {
    replay = await DatadogReplay.start(searchPaged);
    const page2 = JSON.parse(searchPaged[1].response.text).data[0];
    const result = await scanThrough(replay, { ...recordedWindow, to: Date.parse(page2.attributes.timestamp) });
    expect(result.counters).toMatchObject({ read: 3, outOfRange: 1 });
  });

  test('an empty recorded result is one page and nothing read', async () => {
    replay = await DatadogReplay.start([searchEmpty]);
    const result = await scanThrough(replay, recordedWindow);
    expect([result.pages, result.counters.read, replay.overrun]).toEqual([1, 0, 0]);
  });

  test("the client's own paginator over the recorded list ends after 3 events, as the cassette's scenario asserts", async () => {
    replay = await DatadogReplay.start(listPaged);
    const api = new v2.AuditApi(client.createConfiguration({ authMethods: { apiKeyAuth: 'k', appKeyAuth: 'a' }, baseServer: new client.BaseServerConfiguration(replay.url, {}), enableRetry: false }));
    const events: v2.AuditLogsEvent[] = [];
    for await (const event of api.listAuditLogsWithPagination({ pageLimit: 2 })) events.push(event);
    expect(events).toHaveLength(3);
    expect(replay.problems).toEqual([]);
    expect(replay.overrun).toBe(0);
    expect(AuditLogsEventsResponseSchema.safeParse(JSON.parse(listEmpty.response.text)).success).toBe(true);
  });

  test('the client deserializes the outer timestamp to a Date; the zone-less inner one reads as the same UTC instant', async () => {
    replay = await DatadogReplay.start([searchPaged[0]]);
    const api = new v2.AuditApi(client.createConfiguration({ authMethods: { apiKeyAuth: 'k', appKeyAuth: 'a' }, baseServer: new client.BaseServerConfiguration(replay.url, {}), enableRetry: false }));
    const page = await api.searchAuditLogs({ body: { page: { limit: 2 } } });
    const event = page.data![0];
    expect(event.attributes!.timestamp).toBeInstanceOf(Date);
    expect(eventTimestamp(event)).toBe(Date.parse('2022-04-13T09:21:13.750Z'));
    const inner = event.attributes!.attributes as { timestamp: string };
    expect(inner.timestamp).toBe('2022-04-13T09:21:13.750599');
    expect(eventTimestamp({ attributes: { attributes: inner } })).toBe(Date.parse('2022-04-13T09:21:13.750Z'));
  });
});
