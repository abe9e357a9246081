import { Worker } from '@temporalio/worker';
import { HISTORY_FILES, historyDataConverter, loadHistory } from './recorded';

/**
 * Today's workflow code must replay every committed history: a change that would break a running Schedule's
 * in-flight run fails here, with the history named. Record new histories with `npm run histories:record`.
 */
const files = Object.values(HISTORY_FILES);
const histories = () => files.map((file) => ({ workflowId: file, history: loadHistory(file) }));

async function replayAll(workflowsPath: string): Promise<Array<{ history: string; error?: string }>> {
  const outcomes: Array<{ history: string; error?: string }> = [];
  const replays = Worker.runReplayHistories({ workflowsPath, dataConverter: historyDataConverter() }, histories());
  for await (const result of replays) outcomes.push({ history: result.workflowId, ...(result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}) });
  return outcomes;
}

describe('recorded histories replay against today\'s workflow code', () => {
  test('every committed history replays without a determinism error', async () => {
    const outcomes = await replayAll(require.resolve('../../src/workflows'));
    expect(outcomes).toEqual(files.map((history) => ({ history })));
  }, 120_000);

  test('an unpatched change to the workflow\'s commands fails, naming each history; the same change behind patched() replays', async () => {
    const broken = await replayAll(require.resolve('./fixtures/unpatched-change'));
    expect(broken.map((outcome) => outcome.history)).toEqual(files);
    for (const outcome of broken) expect(outcome.error).toMatch(/DeterminismViolationError|Nondeterminism/i);
    const patched = await replayAll(require.resolve('./fixtures/patched-change'));
    expect(patched).toEqual(files.map((history) => ({ history })));
  }, 180_000);
});
