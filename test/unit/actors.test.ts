import { ActorResolver, UNKNOWN_ACTOR } from '../../src/detection/actor';
import { Detector } from '../../src/detection/detector';
import { Scan, type ScanResult } from '../../src/detection/scan';
import { emptyState } from '../../src/detection/state';
import { ACTIONS, auditEvent, burst, type AuditEventJson } from '../../sim/audit-events';
import { SERVICE_ACCOUNT_ACTOR_FIELDS, argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const MIN = 60_000;
const SERVICE_ACCOUNTS = ['detection:', ...SERVICE_ACCOUNT_ACTOR_FIELDS, ''].join('\n');

function scan(events: AuditEventJson[], yaml = ''): ScanResult {
  const args = argsFrom(yaml);
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const window = { readFrom: T0 - 60 * MIN, from: T0 - 60 * MIN, to: T0 + 60 * MIN };
  const run = Scan.start(detector, { orgId: 'test', window, runAt: window.to, lateAfterMs: 24 * 60 * MIN }, emptyState(window.from));
  for (const event of events) run.add(event);
  return run.finish();
}

const triggered = (result: ScanResult) => result.actions.filter((a) => a.kind === 'trigger').map((a) => a.summary);

describe('actor normalization', () => {
  test('users by email, case-insensitively, with their display name kept for the summary', () => {
    const events = [
      auditEvent(T0, { id: 'u1', email: 'Mallory@Example.COM', name: 'Mallory' }, ACTIONS.roleGrant),
      auditEvent(T0 + MIN, { id: 'u1', email: 'mallory@example.com' }, ACTIONS.roleGrant),
      auditEvent(T0 + 2 * MIN, { id: 'u1', email: ' MALLORY@example.com ', name: 'Mallory' }, ACTIONS.roleGrant),
    ];
    const [summary] = triggered(scan(events));
    expect(summary).toMatchObject({ actor: 'mallory@example.com', actorName: 'Mallory', counts: { role_grant: 3 } });
    expect(summary.title).toContain('mallory@example.com (Mallory)');
    expect(decodeURIComponent(summary.link)).toContain('query=@usr.email:"mallory@example.com"');
  });

  test('service accounts by their id (as written, not lower-cased), the email kept as display name', () => {
    const bot = { id: 'SA-Deploy-7', email: 'Deploy@Service.Example.com' };
    const [summary] = triggered(scan(burst(bot, ACTIONS.serviceAccountAppKeyCreate, 3, T0, MIN), SERVICE_ACCOUNTS));
    expect(summary).toMatchObject({ actor: 'service_account:SA-Deploy-7', actorName: 'Deploy@Service.Example.com' });
    expect(decodeURIComponent(summary.link)).toContain('query=@usr.id:SA-Deploy-7');
    // Without the mapping the same events are grouped by email.
    expect(triggered(scan(burst(bot, ACTIONS.serviceAccountAppKeyCreate, 3, T0, MIN)))[0].actor).toBe('deploy@service.example.com');
  });

  test('API keys by their id, prefixed; a user without email by id', () => {
    const events = [...burst({ apiKeyId: 'Key9' }, ACTIONS.appKeyCreate, 3, T0, MIN), ...burst({ id: 'u-77' }, ACTIONS.apiKeyCreate, 3, T0, MIN)];
    const summaries = triggered(scan(events, SERVICE_ACCOUNTS));
    expect(summaries.map((s) => s.actor).sort()).toEqual(['api_key:Key9', 'u-77']);
    expect(decodeURIComponent(summaries.find((s) => s.actor === 'api_key:Key9')!.link)).toContain('query=@metadata.api_key.id:Key9');
  });

  test('events with no attributable actor are grouped under "unknown", counted, can burst, and say so', () => {
    const result = scan([...burst({}, ACTIONS.monitorDelete, 2, T0, MIN), auditEvent(T0, { name: 'only a name' }, ACTIONS.userInvite)]);
    expect(result.counters.unknownActor).toBe(3);
    const [summary] = triggered(result);
    expect(summary.actor).toBe(UNKNOWN_ACTOR);
    expect(summary.title).toContain('unknown actor (no user, service account or API key on the events)');
    expect(decodeURIComponent(summary.link)).toContain('query=-@usr.email:* -@usr.id:* -@metadata.api_key.id:*');
  });

  test('a configured prefix and name field are used', () => {
    const resolver = new ActorResolver([{ path: 'metadata.api_key.id', kind: 'api_key', prefix: 'key/' }], ['metadata.api_key.name']);
    expect(resolver.resolve({ metadata: { api_key: { id: 'k1', name: 'ci key' } } })).toEqual({ id: 'key/k1', name: 'ci key' });
    expect(resolver.queryFor('key/k1')).toBe('@metadata.api_key.id:k1');
    expect(resolver.resolve({ usr: { email: 'a@b.c' } })).toEqual({ id: UNKNOWN_ACTOR });
  });

  test('a field whose `when` does not hold is skipped for the next one', () => {
    const resolver = new ActorResolver(
      [{ path: 'usr.id', kind: 'service_account', prefix: 'sa:', when: [{ all: [{ path: 'evt.actor.type', values: ['service_account'] }] }] }, { path: 'usr.email', kind: 'email', prefix: '' }],
      ['usr.name'],
    );
    expect(resolver.resolve({ evt: { actor: { type: 'SERVICE_ACCOUNT' } }, usr: { id: 's1', email: 'x@y.z' } }).id).toBe('sa:s1');
    expect(resolver.resolve({ evt: { actor: { type: 'USER' } }, usr: { id: 's1', email: 'X@y.z' } }).id).toBe('x@y.z');
  });
});
