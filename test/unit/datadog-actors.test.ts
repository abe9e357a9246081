import { ActorResolver, UNKNOWN_ACTOR } from '../../src/detection/actor';
import { argsFrom } from '../support/settings';
import { ACTIONS, auditEvent } from '../../sim/audit-events';

/**
 * For actions done with API + application keys, Datadog records the user's UUID in `usr.email` and the email in
 * `usr.id` (the design's "Datadog facts"); the recorded agent event (cassettes/v2/Audit_2643932488, list with
 * pagination) has the same UUID in both.
 */

const resolver = () => {
  const { detection } = argsFrom('');
  return new ActorResolver(detection.actorFields, detection.actorNameFields);
};

test('usr.email holding a UUID does not name the actor; usr.id holding the email does, lower-cased', () => {
  expect(resolver().resolve({ usr: { email: '0ed5718a-10e0-11ec-8246-da7ad0900002', id: 'Mallory@Example.com', uuid: '0ed5718a-10e0-11ec-8246-da7ad0900002' } }))
    .toEqual({ id: 'mallory@example.com' });
});

test('the same person through a session and through keys is one actor, with the name kept', () => {
  const session = auditEvent(0, { id: 'u-1', email: 'Mallory@Example.com', name: 'Mallory' }, ACTIONS.apiKeyCreate).attributes.attributes;
  const keys = auditEvent(0, { email: 'Mallory@Example.com', name: 'Mallory', viaKeys: true }, ACTIONS.apiKeyCreate).attributes.attributes;
  expect(resolver().resolve(keys)).toEqual(resolver().resolve(session));
  expect(resolver().resolve(keys)).toEqual({ id: 'mallory@example.com', name: 'Mallory' });
});

test('the recorded agent event (a UUID in both) is that id, kept as written, never shown as an email', () => {
  const uuid = '3b0b2e4c-0a4f-11ec-8b2a-da7ad0900002';
  expect(resolver().resolve({ usr: { id: uuid, email: uuid } })).toEqual({ id: uuid });
});

test('a plain user id stays as written; nothing at all is unknown', () => {
  expect(resolver().resolve({ usr: { id: 'SA-Deploy-7' } })).toEqual({ id: 'SA-Deploy-7' });
  expect(resolver().resolve({ usr: { email: 'not-an-email' } })).toEqual({ id: UNKNOWN_ACTOR });
});
