import { parseFleetText } from '../../src/config/fleet';
import { RateLimiter, configDigest, isTransient, phaseOffsetMs, retryTransient, scheduleNote, scheduleOptions } from '../../src/schedule';

const FIVE_MIN = 300_000;

describe('phase offsets spread a fleet over the interval', () => {
  const orgs = Array.from({ length: 10_000 }, (_, i) => `org-${String(i).padStart(5, '0')}`);

  test('deterministic, whole seconds, inside [0, interval)', () => {
    for (const org of orgs.slice(0, 500)) {
      const offset = phaseOffsetMs(org, FIVE_MIN);
      expect(offset).toBe(phaseOffsetMs(org, FIVE_MIN));
      expect(offset % 1000).toBe(0);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(FIVE_MIN);
    }
    expect(phaseOffsetMs('acme-us', FIVE_MIN)).not.toBe(phaseOffsetMs('acme-eu', FIVE_MIN));
    // An interval of a second or less has nowhere to spread.
    expect(phaseOffsetMs('acme-us', 1000)).toBe(0);
  });

  test('10,000 orgs start evenly over 5 minutes: every second and every 10 s close to the mean', () => {
    const perSecond = new Array<number>(300).fill(0);
    for (const org of orgs) perSecond[phaseOffsetMs(org, FIVE_MIN) / 1000]++;
    const mean = orgs.length / 300; // 33.3
    // A uniform hash puts Poisson-like counts in each second (sd ~5.8): none empty, none near double the mean.
    expect(Math.min(...perSecond)).toBeGreaterThanOrEqual(mean * 0.4);
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(mean * 1.8);
    const per10s = Array.from({ length: 30 }, (_, i) => perSecond.slice(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0));
    for (const count of per10s) expect(Math.abs(count - mean * 10)).toBeLessThanOrEqual(mean * 10 * 0.2);
    // Chi-square over the 300 seconds (299 degrees of freedom): uniform is ~299, p = 0.001 is ~385.
    const chi2 = perSecond.reduce((sum, n) => sum + (n - mean) ** 2 / mean, 0);
    expect(chi2).toBeLessThan(385);
    // All orgs in one second, as before the offset, would be a chi-square of ~3 million.
  });

  test('the Schedule carries the offset, and the digest in its note changes with the config', () => {
    const [us, eu] = parseFleetText('orgs:\n  - org: acme-us\n  - org: acme-eu\n', 'fleet.yaml');
    const spec = scheduleOptions(us).spec;
    expect(spec.intervals).toEqual([{ every: FIVE_MIN, offset: phaseOffsetMs('acme-us', FIVE_MIN) }]);
    expect(scheduleNote(us)).toMatch(/^audit-spike for Datadog org "acme-us" \(config [0-9a-f]{16}\)$/);
    expect(configDigest(us)).not.toBe(configDigest(eu));
    const [usSlower] = parseFleetText('schedule: { interval: 10m }\norgs:\n  - org: acme-us\n', 'fleet.yaml');
    expect(configDigest(usSlower)).not.toBe(configDigest(us));
    expect(configDigest(parseFleetText('orgs:\n  - org: acme-us\n', 'fleet.yaml')[0])).toBe(configDigest(us));
  });
});

describe('the apply rate limiter', () => {
  function fakeClock() {
    let now = 0;
    return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms), get time() { return now; } };
  }

  test('at most N requests start in any second, spaced evenly, with no initial burst', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(10, clock);
    const starts: number[] = [];
    for (let i = 0; i < 35; i++) {
      await limiter.take();
      starts.push(clock.time);
    }
    expect(starts.slice(0, 4)).toEqual([0, 100, 200, 300]);
    for (const start of starts) expect(starts.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(10);
    expect(starts[34]).toBe(3400);
  });

  test('concurrent takers share the rate; take(2) holds two slots; idle time is not banked', async () => {
    let now = 0;
    const sleeps: Array<{ until: number; resolve: () => void }> = [];
    const limiter = new RateLimiter(10, { now: () => now, sleep: (ms) => new Promise<void>((resolve) => sleeps.push({ until: now + ms, resolve })) });
    const starts: Array<[string, number]> = [];
    const taker = async (name: string, count = 1) => {
      await limiter.take(count);
      starts.push([name, now]);
    };
    const all = Promise.all([taker('a'), taker('b', 2), taker('c'), taker('d')]);
    // Drive the fake clock: wake sleepers in time order.
    await new Promise((resolve) => setImmediate(resolve));
    while (sleeps.length) {
      sleeps.sort((x, y) => x.until - y.until);
      const next = sleeps.shift()!;
      now = next.until;
      next.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await all;
    expect(starts.sort((x, y) => x[1] - y[1])).toEqual([['a', 0], ['b', 100], ['c', 300], ['d', 400]]);
    // A long idle gap does not let a burst through afterwards.
    now = 10_000;
    await limiter.take();
    const before = now;
    const after = limiter.take();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0].until - before).toBe(100);
    sleeps[0].resolve();
    await after;
  });

  test('refuses a rate that is not positive', () => {
    expect(() => new RateLimiter(0)).toThrow(/above 0/);
  });
});

describe('apply retries what a busy server fails for a moment', () => {
  const grpc = (code: number) => Object.assign(new Error('Failed to describe schedule'), { cause: Object.assign(new Error(`${code}`), { code }) });

  test('deadline exceeded, unavailable and resource exhausted are tried again with backoff; others fail at once', async () => {
    expect([4, 8, 14].map((code) => isTransient(grpc(code)))).toEqual([true, true, true]);
    expect(isTransient(grpc(3))).toBe(false);
    expect(isTransient(new Error('plain'))).toBe(false);
    const waits: number[] = [];
    let calls = 0;
    const result = await retryTransient(async () => {
      if (++calls < 3) throw grpc(4);
      return 'applied';
    }, { sleep: async (ms) => void waits.push(ms) });
    expect([result, calls, waits]).toEqual(['applied', 3, [1000, 2000]]);
    calls = 0;
    await expect(retryTransient(async () => {
      calls++;
      throw grpc(3);
    }, { sleep: async () => undefined })).rejects.toThrow('Failed to describe');
    expect(calls).toBe(1);
    calls = 0;
    await expect(retryTransient(async () => {
      calls++;
      throw grpc(14);
    }, { sleep: async () => undefined })).rejects.toThrow();
    expect(calls).toBe(5);
  });
});
