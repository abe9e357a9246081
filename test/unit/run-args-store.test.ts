import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, defaultFailureConverter, defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import type { DatadogAuditClient } from '../../src/activities/datadog-client';
import { loadRunArgs } from '../../src/activities/run-args-store';
import { createScanAuditEvents, type PackedScanOutput, type ScanInput } from '../../src/activities/scan-audit-events';
import { Detector } from '../../src/detection/detector';
import { runArgsHash } from '../../src/workflows/run-args-ref';
import { argsFrom } from '../support/settings';
import { compactScheduleArgs } from '../../src/config/schedule-args';

/** A codec that XORs every byte: the start input as stored is not the JSON, as with payload encryption. */
const xor: PayloadCodec = {
  async encode(payloads: Payload[]) {
    return payloads.map((p) => ({ metadata: { ...p.metadata, encoding: new TextEncoder().encode('binary/xor') }, data: p.data!.map((b) => b ^ 0x5a) }));
  },
  async decode(payloads: Payload[]) {
    return payloads.map((p) => ({ metadata: { ...p.metadata, encoding: new TextEncoder().encode('json/plain') }, data: p.data!.map((b) => b ^ 0x5a) }));
  },
};

const full = argsFrom('detection:\n  rules:\n    - id: role_grant\n      tiers: [{ count: 4, severity: error }]\n');
/** As a Schedule stores them: the default rules by reference, role_grant (overridden) in full. */
const raw = compactScheduleArgs(full);

/** A client whose run `wf` was started with `raw`; the history requests it got are kept. */
async function clientWithRun(requests: unknown[]): Promise<Client> {
  const input = { payloads: await xor.encode([defaultPayloadConverter.toPayload(raw)]) };
  return {
    options: { namespace: 'ns', loadedDataConverter: { payloadConverter: defaultPayloadConverter, failureConverter: defaultFailureConverter, payloadCodecs: [xor] } },
    workflowService: {
      async getWorkflowExecutionHistory(request: { execution: { workflowId: string } }) {
        requests.push(request);
        if (request.execution.workflowId === 'gone') throw Object.assign(new Error('5 NOT_FOUND: workflow execution not found'), { code: 5, details: 'not found', metadata: {} });
        return { history: { events: [{ eventId: 1, workflowExecutionStartedEventAttributes: { input } }] } };
      },
    },
  } as unknown as Client;
}

describe("loadRunArgs: the config a scan reads from its run's start input", () => {
  test('one event read, decoded through the client\'s codecs, parsed as the workflow parses it', async () => {
    const requests: unknown[] = [];
    const { args, warnings } = await loadRunArgs(await clientWithRun(requests), { from: { workflowId: 'wf', runId: 'r1' }, hash: runArgsHash(raw) });
    expect(requests).toEqual([{ namespace: 'ns', execution: { workflowId: 'wf', runId: 'r1' }, maximumPageSize: 1 }]);
    expect(raw.detection.rules).toContainEqual(expect.stringMatching(/^api_key_create@[0-9a-f]{16}$/));
    expect(raw.detection.templates).toMatch(/^default@/);
    expect(args.detection.rules.find((rule) => rule.id === 'role_grant')?.tiers).toEqual([{ count: 4, severity: 'error' }]);
    // The default rules come back in full, as the config resolved them.
    expect(args).toEqual(full);
    expect(warnings).toEqual([]);
    expect(args.datadog).toEqual(raw.datadog);
  });

  test('another config than the workflow saw, or a run that is gone, fails the attempt for good, saying which', async () => {
    const client = await clientWithRun([]);
    const mismatch = await loadRunArgs(client, { from: { workflowId: 'wf', runId: 'r1' }, hash: runArgsHash({ ...raw, orgId: 'other' }) }).catch((error: unknown) => error);
    expect(mismatch).toBeInstanceOf(ApplicationFailure);
    expect(mismatch).toMatchObject({ type: 'RunArgsMismatch', nonRetryable: true });
    const gone = await loadRunArgs(client, { from: { workflowId: 'gone', runId: 'r1' }, hash: runArgsHash(raw) }).catch((error: unknown) => error);
    expect(gone).toMatchObject({ type: 'RunArgsGone', nonRetryable: true });
  });
});

describe('scanAuditEvents with its config by reference', () => {
  const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
  const bodies: Array<{ filter?: { query?: string } }> = [];
  const empty = {
    async searchPage(body: { filter?: { query?: string } }) {
      bodies.push(body);
      return { size: 0, meta: { status: 'done' }, events: () => [][Symbol.iterator]() };
    },
    http: { rateLimit: {}, requests: 0 },
  } as unknown as DatadogAuditClient;
  const input = {
    orgId: raw.orgId, latenessMs: raw.cadence.latenessMs, window: { readFrom: T0, from: T0, to: T0 + 5 * 60_000 }, runAt: T0 + 5 * 60_000,
    lateAfterMs: 3_600_000, state: { v: 3, watermark: T0, actors: {} },
  };
  type Scan = ReturnType<typeof createScanAuditEvents>;
  const run = (scan: Scan, value: object): Promise<PackedScanOutput> => new MockActivityEnvironment().run(scan, value as ScanInput);

  test('the detection settings and Datadog target come from the run, the result leaves the query out; without a Temporal client it says so', async () => {
    const refs: unknown[] = [];
    const detections: unknown[] = [];
    const client = await clientWithRun([]);
    const scan = createScanAuditEvents({
      datadogFor: () => empty,
      detectorFor: (detection, lateness) => (detections.push(detection), new Detector(detection, lateness)),
      loadArgs: async (ref) => (refs.push(ref), loadRunArgs(client, ref)),
    });
    const config = { from: { workflowId: 'wf', runId: 'r1' }, hash: runArgsHash(raw) };
    const output: PackedScanOutput = await run(scan, { ...input, config });
    expect(refs).toEqual([config]);
    expect(detections).toEqual([full.detection]);
    expect(bodies.at(-1)?.filter?.query).toContain('@asset.type:role');
    expect(output).not.toHaveProperty('query');

    const noClient = createScanAuditEvents({ datadogFor: () => empty, detectorFor: (d, l) => new Detector(d, l) });
    await expect(run(noClient, { ...input, config })).rejects.toMatchObject({ type: 'NoTemporalClient' });
    // Both forms, or neither, is a bad input.
    await expect(run(noClient, { ...input, config, datadog: full.datadog, detection: full.detection })).rejects.toMatchObject({ type: 'BadScanInput' });
    await expect(run(noClient, input)).rejects.toMatchObject({ type: 'BadScanInput' });
  });
});
