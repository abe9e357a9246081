import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { dataConverterFromEnv } from '../../src/codec/data-converter';

/** The committed histories, one per kind of run that must keep replaying. */
export const HISTORY_FILES = {
  quiet: 'quiet-run.json',
  burst: 'burst-pages.json',
  catchUp: 'catch-up-in-chunks.json',
  pagerdutyRetried: 'pagerduty-retried.json',
  encrypted: 'encrypted-run.json',
} as const;

/** A key for the recorded encrypted run only: it protects simulator data, nothing real. */
export const HISTORY_ENCRYPTION_ENV = { AUDIT_SPIKE_ENCRYPTION_KEY: 'q0pCL8/1tXgkCqv3mYy8fD1o7o+vGvK5K7C1b4mXH3Q=', AUDIT_SPIKE_ENCRYPTION_KEY_ID: 'histories' };

export function historyDataConverter(): DataConverter {
  return dataConverterFromEnv(HISTORY_ENCRYPTION_ENV)!;
}

export function loadHistory(file: string) {
  return historyFromJSON(JSON.parse(readFileSync(join(__dirname, file), 'utf8')));
}
