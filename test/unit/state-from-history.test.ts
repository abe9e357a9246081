import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { defaultFailureConverter, defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { loadCarriedState } from '../../src/activities/carried-state-store';
import type { DatadogAuditClient } from '../../src/activities/datadog-client';
import { createScanAuditEvents, type PackedScanOutput, type ScanInput } from '../../src/activities/scan-audit-events';
import { Detector } from '../../src/detection/detector';
import { isPackedState, type PackedState } from '../../src/detection/state';
import { unpackState } from '../../src/detection/packed-state';
import { argsFrom } from '../support/settings';

// Recent: an older window would also bring Datadog's retention warning.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
const MIN = 60_000;
const packed = (watermark: number, actors = ''): PackedState => ({ v: 4, watermark, rereadFrom: watermark - 5 * MIN, rules: [], actors, incidents: {} });

/** A codec that XORs every byte: what is stored is not the JSON, as with payload encryption. */
const xor: PayloadCodec = {
  async encode(payloads: Payload[]) {
    return payloads.map((p) => ({ metadata: { ...p.metadata, encoding: new TextEncoder().encode('binary/xor') }, data: p.data!.map((b) => b ^ 0x5a) }));
  },
  async decode(payloads: Payload[]) {
    return payloads.map((p) => ({ metadata: { ...p.metadata, encoding: new TextEncoder().encode('json/plain') }, data: p.data!.map((b) => b ^ 0x5a) }));
  },
};

async function encoded(value: unknown): Promise<Payload[]> {
  return xor.encode([defaultPayloadConverter.toPayload(value)]);
}

/** A client whose one run's history holds two completed scans (the later one wins) and an activity of another type. */
async function clientWithHistory(): Promise<Client> {
  const events = [
    { eventId: 5, activityTaskScheduledEventAttributes: { activityType: { name: 'scanAuditEvents' } } },
    { eventId: 7, activityTaskCompletedEventAttributes: { scheduledEventId: 5, result: { payloads: await encoded({ state: packed(T0) }) } } },
    { eventId: 8, activityTaskScheduledEventAttributes: { activityType: { name: 'scanAuditEvents' } } },
    { eventId: 9, activityTaskScheduledEventAttributes: { activityType: { name: 'openOrUpdateIncident' } } },
    { eventId: 10, activityTaskCompletedEventAttributes: { scheduledEventId: 8, result: { payloads: await encoded({ state: packed(T0 + 5 * MIN) }) } } },
    { eventId: 11, activityTaskCompletedEventAttributes: { scheduledEventId: 9, result: { payloads: await encoded({ state: packed(T0 + 99 * MIN) }) } } },
  ];
  return {
    options: { loadedDataConverter: { payloadConverter: defaultPayloadConverter, failureConverter: defaultFailureConverter, payloadCodecs: [xor] } },
    workflow: {
      getHandle: (workflowId: string) => ({
        fetchHistory: async () => {
          if (workflowId === 'gone') throw Object.assign(new Error('5 NOT_FOUND: workflow execution not found'), { code: 5, details: 'not found', metadata: {} });
          if (workflowId === 'broken') throw Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'unavailable', metadata: {} });
          return { events: workflowId === 'empty' ? [] : events };
        },
      }),
    },
  } as unknown as Client;
}

describe('loadCarriedState: the state from the last completed scan of a run\'s history', () => {
  test('the last completed scanAuditEvents, decoded through the client\'s codecs', async () => {
    const loaded = await loadCarriedState(await clientWithHistory(), { workflowId: 'wf', runId: 'run' });
    expect(loaded).toEqual({ state: packed(T0 + 5 * MIN) });
  });

  test('a history Temporal no longer has, or with no completed scan, is gone with the reason; other failures are thrown (retried)', async () => {
    const client = await clientWithHistory();
    expect(await loadCarriedState(client, { workflowId: 'gone', runId: 'r' })).toEqual({ gone: expect.stringContaining('is no longer in Temporal') });
    expect(await loadCarriedState(client, { workflowId: 'empty', runId: 'r' })).toEqual({ gone: expect.stringContaining('holds no completed scan') });
    await expect(loadCarriedState(client, { workflowId: 'broken', runId: 'r' })).rejects.toThrow(/UNAVAILABLE/);
  });
});

describe('scanAuditEvents: where it starts from', () => {
  const args = argsFrom('');
  const empty: DatadogAuditClient = {
    api: { searchAuditLogs: async () => ({ data: [], meta: { status: 'done' } }) },
    // The scan reads pages through searchPage (7082c3e): an empty, complete page.
    searchPage: async () => ({ size: 0, meta: { status: 'done' }, events: () => [][Symbol.iterator]() }),
    http: { rateLimit: {}, requests: 0 },
  } as unknown as DatadogAuditClient;
  const input = (extra: Partial<ScanInput>): ScanInput => ({
    orgId: 'acme', datadog: args.datadog, detection: args.detection, latenessMs: args.cadence.latenessMs,
    window: { readFrom: T0, from: T0, to: T0 + 5 * MIN }, runAt: T0 + 5 * MIN, lateAfterMs: 60 * MIN, ...extra,
  });
  const scanWith = (loadState?: Parameters<typeof createScanAuditEvents>[0]['loadState']) =>
    createScanAuditEvents({ datadogFor: () => empty, detectorFor: (d, l) => new Detector(d, l), ...(loadState ? { loadState } : {}) });

  test('from a run\'s history: the state it holds goes on, returned packed', async () => {
    const refs: unknown[] = [];
    const scan = scanWith(async (ref) => (refs.push(ref), { state: { v: 3, watermark: T0, actors: { 'a@example.com': { hits: { role_grant: [T0 + 1000, 42] } } } } }));
    const output: PackedScanOutput = await new MockActivityEnvironment().run(scan, input({ stateFrom: { workflowId: 'wf', runId: 'run' } }));
    expect(refs).toEqual([{ workflowId: 'wf', runId: 'run' }]);
    expect(output.warnings).toEqual([]);
    expect(isPackedState(output.state)).toBe(true);
    expect(unpackState(output.state).actors['a@example.com'].hits.role_grant).toEqual([T0 + 1000, 42]);
  });

  test('a state that is gone does not fail the run: an empty state from the cursor, and a warning that says so', async () => {
    const scan = scanWith(async () => ({ gone: 'the history of run wf (run) is no longer in Temporal (past the namespace\'s retention?)' }));
    const output: PackedScanOutput = await new MockActivityEnvironment().run(scan, input({ stateFrom: { workflowId: 'wf', runId: 'run' } }));
    expect(output.warnings).toHaveLength(1);
    expect(output.warnings[0]).toMatch(/^The carried state could not be read \(the history of run wf \(run\) is no longer in Temporal.*went on from the cursor with an empty state/);
    expect(unpackState(output.state)).toEqual({ v: 3, watermark: T0 + 5 * MIN, actors: {} });
  });

  test('a state handed over inline (the first run, or an earlier version) is used as given; exactly one source is required', async () => {
    const scan = scanWith(async () => {
      throw new Error('must not be asked');
    });
    const output: PackedScanOutput = await new MockActivityEnvironment().run(scan, input({ state: { v: 2, watermark: T0, actors: {} } }));
    expect(output.state.watermark).toBe(T0 + 5 * MIN);
    await expect(new MockActivityEnvironment().run(scan, input({}))).rejects.toThrow(/exactly one of state and stateFrom/);
    await expect(new MockActivityEnvironment().run(scanWith(), input({ stateFrom: { workflowId: 'wf', runId: 'run' } }))).rejects.toThrow(/no Temporal client/);
  });
});
