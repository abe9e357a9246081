import type { IncidentRecord } from './run-result';

/** Incident records a run's result keeps; a run touching more says how many it left out. */
export const MAX_RESULT_INCIDENTS = 100;
/**
 * Bytes of evidence a run's result may carry across its incident records. One incident's evidence can reach 83 KB
 * (EVIDENCE_MAX_BYTES), and Temporal refuses a result over 2 MiB; past this budget the later records keep their counts
 * and outcome but not their evidence, which their PagerDuty incidents carry in full.
 */
export const RESULT_EVIDENCE_BUDGET_BYTES = 256 * 1024;

function utf8Bytes(value: unknown): number {
  // The workflow sandbox has no Buffer: count UTF-8 bytes from the JSON text's code points.
  let bytes = 0;
  for (const char of JSON.stringify(value)) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/**
 * The records a run's result carries: at most MAX_RESULT_INCIDENTS, evidence included while it fits the budget, the
 * first records (the run's pages come first) served first. The sentence says what was left out, for the run's report.
 */
export function boundIncidentRecords(records: IncidentRecord[], budgetBytes = RESULT_EVIDENCE_BUDGET_BYTES): { records: IncidentRecord[]; leftOut?: string } {
  const kept = records.slice(0, MAX_RESULT_INCIDENTS);
  let spent = 0;
  let withoutEvidence = 0;
  const bounded = kept.map((record) => {
    if (!record.evidence) return record;
    const cost = utf8Bytes(record.evidence);
    if (spent + cost <= budgetBytes) {
      spent += cost;
      return record;
    }
    withoutEvidence++;
    const { evidence: _dropped, ...rest } = record;
    return rest;
  });
  const notes: string[] = [];
  if (records.length > kept.length) notes.push(`${records.length - kept.length} of ${records.length} incident records left out of this result`);
  if (withoutEvidence) notes.push(`the evidence of ${withoutEvidence} incident(s) left out of this result to stay under its size budget (their PagerDuty incidents carry it)`);
  return { records: bounded, ...(notes.length ? { leftOut: notes.join('; ') } : {}) };
}
