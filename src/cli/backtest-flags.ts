import { z } from 'zod';
import { parseDuration } from '../detection/duration';
import { ExplainFlagSchema } from './explain-flag';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;
const ALLOWED_TIMES = 'an ISO 8601 time with a zone such as 2026-11-24T10:00:00Z, a date such as 2026-11-24 (UTC midnight), epoch milliseconds, now, or now-<duration> such as now-24h';

/** Epoch ms for a time flag, or a message saying what was wrong and what is allowed. */
export function parseTimeFlag(text: string, nowMs: number): number | string {
  const value = text.trim();
  if (value === 'now') return nowMs;
  const relative = /^now-(.+)$/.exec(value);
  if (relative) {
    const ago = parseDuration(relative[1]);
    return ago === undefined ? `"${relative[1]}" is not a duration such as 90m, 24h or 7d` : nowMs - ago;
  }
  if (/^\d+$/.test(value)) {
    const ms = Number(value);
    return ms < 1e11 ? `${value} looks like epoch seconds; give epoch milliseconds or ${ALLOWED_TIMES}` : ms;
  }
  if (ISO_WITH_ZONE.test(value)) {
    const ms = Date.parse(value.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms;
  }
  return `must be ${ALLOWED_TIMES} (got ${JSON.stringify(text)})`;
}

function timeFlag(nowMs: number) {
  return z.string().transform((text, ctx) => {
    const parsed = parseTimeFlag(text, nowMs);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  });
}

/** The backtest's flags, checked together: a range in the past, from before to. */
export function backtestFlagsSchema(nowMs: number) {
  return z
    .object({
      from: timeFlag(nowMs).optional(),
      to: timeFlag(nowMs).default(nowMs),
      config: z.string().min(1, 'must name a config file').optional(),
      json: z.boolean().default(false),
      explain: ExplainFlagSchema.optional(),
    })
    .superRefine((flags, ctx) => {
      if (flags.from === undefined) {
        ctx.addIssue({ code: 'custom', path: ['from'], message: `is required: where the backtest starts, ${ALLOWED_TIMES}` });
        return;
      }
      if (flags.from >= flags.to) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: `must be after --from (${new Date(flags.from).toISOString()}); got ${new Date(flags.to).toISOString()}` });
      }
      if (flags.to > nowMs + 60_000) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: `is in the future (${new Date(flags.to).toISOString()}); a backtest reads past audit events: use now or earlier` });
      }
    });
}

export type BacktestFlags = { from: number; to: number; config?: string; json: boolean; explain?: string };

/** Validates raw flags; on failure, one line per bad flag: `--to: must be after --from (…)`. */
export function parseBacktestFlags(raw: Record<string, unknown>, nowMs: number): BacktestFlags | { problems: string[] } {
  const parsed = backtestFlagsSchema(nowMs).safeParse(raw);
  if (!parsed.success) return { problems: parsed.error.issues.map((issue) => `--${issue.path.join('.') || 'flags'}: ${issue.message}`) };
  return { ...parsed.data, from: parsed.data.from! };
}
