import { globMatcher } from './glob';
import type { ActorExemption, SuppressionSettings } from './types';

/** Why a burst is counted but not paged; `rules` when only those rules are exempted (a rule crossed outside them pages). */
export interface Suppression {
  reason: string;
  rules?: string[];
}

/** Whether an exemption still applies at `runAt`, the run's scheduled time (never the clock: replays must agree with live runs). */
export function exemptionActive(exemption: ActorExemption, runAt: number): boolean {
  return exemption.expiresMs === undefined || runAt < exemption.expiresMs;
}

function describeExemption(exemption: ActorExemption): string {
  const scope = exemption.rules.length ? ` from ${exemption.rules.join(', ')}` : '';
  const until = exemption.expiresMs !== undefined ? ` until ${new Date(exemption.expiresMs).toISOString()}` : '';
  return `actor exempted${scope} (${exemption.actor})${until}${exemption.reason ? `: ${exemption.reason}` : ''}`;
}

/**
 * Why a burst by `actor` starting at `start`, crossing `rules`, found by the run scheduled at `runAt`, is counted but not
 * paged; undefined when it pages.
 */
export function suppressionFor(settings: SuppressionSettings, actor: string, start: number, runAt: number, rules: readonly string[]): Suppression | undefined {
  // Patterns compare case-insensitively (globMatcher lower-cases the pattern), so ids with capitals match too.
  const text = actor.toLowerCase();
  for (const pattern of settings.actors) {
    if (globMatcher(pattern)(text)) return { reason: `actor allowlisted (${pattern})` };
  }
  for (const window of settings.maintenanceWindows) {
    if (start < window.fromMs || start >= window.toMs) continue;
    if (window.actors.length === 0 || window.actors.some((pattern) => globMatcher(pattern)(text))) {
      return { reason: `maintenance window ${new Date(window.fromMs).toISOString()}..${new Date(window.toMs).toISOString()}: ${window.reason}` };
    }
  }
  const scoped: ActorExemption[] = [];
  for (const exemption of settings.exemptions ?? []) {
    if (!exemptionActive(exemption, runAt) || !globMatcher(exemption.actor)(text)) continue;
    if (exemption.rules.length === 0) return { reason: describeExemption(exemption) };
    scoped.push(exemption);
  }
  if (scoped.length === 0) return undefined;
  const exempted = [...new Set(scoped.flatMap((exemption) => exemption.rules))];
  if (rules.length === 0 || !rules.every((rule) => exempted.includes(rule))) return undefined;
  const used = scoped.filter((exemption) => exemption.rules.some((rule) => rules.includes(rule)));
  return { reason: used.map(describeExemption).join('; '), rules: exempted };
}

/** Why a burst by `actor` starting at `at` is counted but not paged, or undefined when it pages (any rule, at that time). */
export function suppressionReason(settings: SuppressionSettings, actor: string, at: number): string | undefined {
  return suppressionFor(settings, actor, at, at, [])?.reason;
}
