import { createHmac } from 'node:crypto';
import { verifyPagerDutyWebhook, type VerificationInput } from '../../src/webhooks/pagerduty-signature';

/**
 * The v3 webhook verifier against signatures made here, independently, as docs/webhooks/04-Signatures.md describes
 * them: `v1=` + hex HMAC-SHA256 of the raw body under the subscription's secret, comma-separated when several.
 */

const SECRET = 'whsec-current-0123456789abcdef';
const OLD_SECRET = 'whsec-previous-fedcba9876543210';
const NOW = Date.parse('2026-12-02T06:00:00.000Z');
const MINUTE = 60_000;

function envelope(occurredAt = new Date(NOW - 30_000).toISOString(), extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    event: {
      id: '01EVT', event_type: 'incident.workflow.started', resource_type: 'incident', occurred_at: occurredAt,
      agent: { id: 'PUSR001', type: 'user_reference', summary: 'Ada Secure', self: 'https://api.pagerduty.com/users/PUSR001', html_url: 'https://x.pagerduty.com/users/PUSR001' },
      client: null,
      data: { id: 'PWI0001', type: 'incident_workflow_instance', incident: { id: 'Q0000001', type: 'incident_reference' } },
      ...extra,
    },
  });
}

const sign = (body: string | Buffer, secret = SECRET) => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

function verify(overrides: Partial<VerificationInput> & { rawBody: string | Buffer }) {
  return verifyPagerDutyWebhook({ signatureHeader: sign(overrides.rawBody), secrets: SECRET, now: NOW, toleranceMs: 5 * MINUTE, ...overrides });
}

test('a body signed with the subscription\'s secret is accepted, with its envelope and its age', () => {
  const body = envelope();
  const result = verify({ rawBody: body });
  expect(result).toMatchObject({ ok: true, ageMs: 30_000, webhook: { event: { id: '01EVT', event_type: 'incident.workflow.started', agent: { id: 'PUSR001' } } } });
  // The same bytes as a Buffer, and a header Node delivered as an array.
  expect(verify({ rawBody: Buffer.from(body), signatureHeader: [sign(body)] }).ok).toBe(true);
});

test('any matching v1 signature is enough: PagerDuty rotating (two signatures), this side rotating (two secrets)', () => {
  const body = envelope();
  expect(verify({ rawBody: body, signatureHeader: `${sign(body, 'some-other-secret')},${sign(body)}` }).ok).toBe(true);
  expect(verify({ rawBody: body, signatureHeader: `${sign(body)},${sign(body, OLD_SECRET)}` }).ok).toBe(true);
  expect(verify({ rawBody: body, signatureHeader: sign(body, OLD_SECRET), secrets: [SECRET, OLD_SECRET] }).ok).toBe(true);
  // Entries of other versions are skipped, spaces after the commas tolerated, hex case ignored.
  expect(verify({ rawBody: body, signatureHeader: `v0=abc, ${sign(body).toUpperCase().replace('V1=', 'v1=')}` }).ok).toBe(true);
});

test('unsigned requests are refused with a reason a person can act on', () => {
  for (const signatureHeader of [undefined, '', '  ', []]) {
    const result = verify({ rawBody: envelope(), signatureHeader });
    expect(result).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(!result.ok && result.message).toMatch(/X-PagerDuty-Signature/);
  }
});

test('malformed signatures are refused: no v1 entry, or v1 entries that are not 64 hex digits', () => {
  const body = envelope();
  const hex = sign(body).slice(3);
  for (const header of ['v1=', 'v1=xyz', `sha256=${hex}`, `v2=${hex}`, hex, `v1=${hex.slice(1)}`, `v1=${hex}00`]) {
    expect(verify({ rawBody: body, signatureHeader: header })).toMatchObject({ ok: false, reason: 'malformed_signature' });
  }
});

test('a wrong secret, a changed body or a re-encoded body is a mismatch, and the message never shows a secret or a signature', () => {
  const body = envelope();
  const wrong = verify({ rawBody: body, secrets: 'not-the-secret' });
  const changed = verify({ rawBody: body.replace('PUSR001', 'PUSR002'), signatureHeader: sign(body) });
  const reencoded = verify({ rawBody: JSON.stringify(JSON.parse(body), null, 2), signatureHeader: sign(body) });
  const noSecret = verify({ rawBody: body, secrets: [] });
  for (const result of [wrong, changed, reencoded, noSecret]) {
    expect(result).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    const message = result.ok ? '' : result.message;
    for (const secretOrSignature of [SECRET, 'not-the-secret', sign(body).slice(3), createHmac('sha256', 'not-the-secret').update(body).digest('hex')]) {
      expect(message).not.toContain(secretOrSignature);
    }
  }
});

test('UTF-8 bodies verify as the bytes PagerDuty signed', () => {
  const body = envelope(undefined, { data: { id: 'PWI0001', type: 'incident_workflow_instance', summary: 'Contenir l\u2019acc\u00e8s \u{1F512}' } });
  expect(verify({ rawBody: body, signatureHeader: sign(Buffer.from(body, 'utf8')) }).ok).toBe(true);
  expect(verify({ rawBody: Buffer.from(body, 'utf8'), signatureHeader: sign(body) }).ok).toBe(true);
  // The same text signed as Latin-1 bytes is another body.
  expect(verify({ rawBody: body, signatureHeader: sign(Buffer.from(body, 'latin1')) }).ok).toBe(false);
});

test('stale and future events are refused at the tolerance, after authentication', () => {
  const at = (offsetMs: number) => envelope(new Date(NOW - offsetMs).toISOString());
  expect(verify({ rawBody: at(5 * MINUTE) }).ok).toBe(true);
  const stale = verify({ rawBody: at(5 * MINUTE + 1) });
  expect(stale).toMatchObject({ ok: false, reason: 'stale' });
  expect(!stale.ok && stale.message).toMatch(/tolerance/);
  expect(verify({ rawBody: at(-5 * MINUTE) }).ok).toBe(true);
  expect(verify({ rawBody: at(-5 * MINUTE - 1) })).toMatchObject({ ok: false, reason: 'from_the_future' });
  // A forged old body is a mismatch first: the age of an unauthenticated body is never reported.
  expect(verify({ rawBody: at(60 * MINUTE), signatureHeader: sign(at(60 * MINUTE), 'forger') })).toMatchObject({ reason: 'signature_mismatch' });
});

test('a signed body that is not a v3 envelope is refused as malformed', () => {
  const notJson = 'event=incident.triggered';
  expect(verify({ rawBody: notJson })).toMatchObject({ ok: false, reason: 'malformed_body' });
  const v2 = JSON.stringify({ messages: [{ event: 'incident.custom', id: 'x' }] });
  expect(verify({ rawBody: v2 })).toMatchObject({ ok: false, reason: 'malformed_body' });
  const noId = JSON.stringify({ event: { ...JSON.parse(envelope()).event, id: undefined } });
  const result = verify({ rawBody: noId });
  expect(result).toMatchObject({ ok: false, reason: 'malformed_body' });
  expect(!result.ok && result.message).toMatch(/event\.id/);
  const badTime = envelope('yesterday');
  expect(verify({ rawBody: badTime })).toMatchObject({ ok: false, reason: 'malformed_body' });
});
