import { globMatcher } from './glob';
import type { SuppressionSettings } from './types';

/** Why a burst by `actor` starting at `at` is counted but not paged, or undefined when it pages. */
export function suppressionReason(settings: SuppressionSettings, actor: string, at: number): string | undefined {
  // Patterns compare case-insensitively (globMatcher lower-cases the pattern), so ids with capitals match too.
  const text = actor.toLowerCase();
  for (const pattern of settings.actors) {
    if (globMatcher(pattern)(text)) return `actor allowlisted (${pattern})`;
  }
  for (const window of settings.maintenanceWindows) {
    if (at < window.fromMs || at >= window.toMs) continue;
    if (window.actors.length === 0 || window.actors.some((pattern) => globMatcher(pattern)(text))) {
      return `maintenance window ${new Date(window.fromMs).toISOString()}..${new Date(window.toMs).toISOString()}: ${window.reason}`;
    }
  }
  return undefined;
}
