import type { RuleSpec } from '../types';
import type { PersonBaseline } from './baseline';
import { haversineKm } from './geo';
import type { DetectionMethod, Firing } from './method';
import { valuesKnown, warmedUp } from './new-value';
import { COUNTRY_FIELD, type Place } from './person';

export interface LocatedEventInput {
  person: string;
  ts: number;
  place: Place;
  baseline: PersonBaseline | undefined;
}

type TravelSpec = Extract<NonNullable<RuleSpec['method']>, { kind: 'impossible_travel' }>;

/**
 * Impossible travel (Datadog Cloud SIEM's method): a person's located event more than `minKm` (great-circle) from their
 * previous located event, reached at more than `minKmh`, unless both countries are in their baseline, once their
 * warm-up is over. Events at the same instant travel at the distance per second. Without coordinates on either end
 * (geoip without a location) nothing can be said, and the rule does not fire.
 */
export class ImpossibleTravelMethod implements DetectionMethod<LocatedEventInput> {
  readonly kind = 'impossible_travel' as const;
  private readonly spec: TravelSpec;

  constructor(readonly rule: RuleSpec) {
    if (rule.method?.kind !== 'impossible_travel') throw new Error(`rule ${rule.id} is not an impossible_travel rule`);
    this.spec = rule.method;
  }

  check({ ts, place, baseline }: LocatedEventInput): Firing | undefined {
    if (!warmedUp(baseline, ts, this.spec.learningMs)) return undefined;
    const last = baseline.last;
    if (last === undefined || last.lat === undefined || last.lon === undefined || place.lat === undefined || place.lon === undefined) return undefined;
    const elapsed = ts - last.ts;
    if (elapsed < 0) return undefined;
    const km = haversineKm(last.lat, last.lon, place.lat, place.lon);
    if (!(km > this.spec.minKm)) return undefined;
    const kmh = km / (Math.max(elapsed, 1000) / 3_600_000);
    if (!(kmh > this.spec.minKmh)) return undefined;
    const known = valuesKnown(baseline, COUNTRY_FIELD, ts, this.spec.forgetAfterMs);
    if (known.includes(last.country) && known.includes(place.country)) return undefined;
    return {
      rule: this.rule.id,
      travel: {
        from: { country: last.country, ...(last.city ? { city: last.city } : {}), timestamp: new Date(last.ts).toISOString() },
        to: { country: place.country, ...(place.city ? { city: place.city } : {}), timestamp: new Date(ts).toISOString() },
        km: Math.round(km),
        kmh: Math.round(kmh),
      },
    };
  }
}
