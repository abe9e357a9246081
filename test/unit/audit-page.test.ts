import { MalformedAuditPage, frameAuditPage, readAuditPage } from '../../src/activities/audit-page';

const bytes = (text: string) => Buffer.from(text, 'utf8');

function eventsOf(text: string): unknown[] {
  return [...readAuditPage(bytes(text)).events()];
}

/** A deterministic pseudo-random JSON value with the characters that could confuse a framer: quotes, escapes, brackets, commas, non-ASCII. */
function randomValue(seed: { n: number }, depth = 0): unknown {
  const next = () => (seed.n = (seed.n * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = next();
  const strings = ['plain', 'a "quoted" word', 'back\\slash\\', '{not: an object}', '[1, 2]', 'comma, colon: yes', 'é 東京 🚀', '\u0000\u001f', '"data": []', ''];
  if (depth > 3 || pick < 0.3) return strings[Math.floor(next() * strings.length)];
  if (pick < 0.4) return Math.round(next() * 1e6) / 100 - 5000;
  if (pick < 0.45) return next() < 0.5;
  if (pick < 0.5) return null;
  if (pick < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(seed, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, (_, i) => [`${strings[Math.floor(next() * strings.length)]}${i}`, randomValue(seed, depth + 1)]));
}

describe('an audit events page read without parsing it whole (#22)', () => {
  test('each event, meta and size equal what JSON.parse reads, for bodies full of quotes, escapes, brackets and non-ASCII', () => {
    const seed = { n: 42 };
    for (let round = 0; round < 200; round++) {
      const data = Array.from({ length: round % 7 }, () => ({ id: `e${round}`, type: 'audit', attributes: randomValue(seed) }));
      const body = { links: { next: 'https://x/y?a=[1]' }, data, meta: { page: { after: `c-${round}` }, status: 'done', elapsed: 3, note: randomValue(seed) } };
      // Both compact and pretty-printed (Datadog sends compact; a proxy or a saved response may not).
      for (const text of [JSON.stringify(body), JSON.stringify(body, null, 2)]) {
        const page = readAuditPage(bytes(text));
        expect(page.size).toBe(data.length);
        expect([...page.events()]).toEqual(JSON.parse(text).data);
        expect(page.meta).toEqual(JSON.parse(text).meta);
      }
    }
  });

  test('any position of data among the keys; a body without data is an empty page; scalars inside data are events too', () => {
    expect(eventsOf('{"meta":{"page":{"after":"x"}},"data":[{"id":"a"},{"id":"b"}]}')).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(eventsOf('{"data":[{"id":"a"}],"meta":{"data":[1,2,3]}}')).toEqual([{ id: 'a' }]);
    expect(eventsOf('{"metadata":{"data":[9]},"data":[]}')).toEqual([]);
    expect(readAuditPage(bytes('{"meta":{"status":"done"}}')).size).toBe(0);
    expect(eventsOf(' {"data": [ 1 , "two" , null , [3] ] } \n')).toEqual([1, 'two', null, [3]]);
  });

  test('events are parsed one at a time, when reached: a bad event fails only when the scan gets to it', () => {
    const page = readAuditPage(bytes('{"data":[{"id":"a"},{"id":tru},{"id":"c"}]}'));
    expect(page.size).toBe(3);
    const events = page.events();
    expect(events.next().value).toEqual({ id: 'a' });
    expect(() => events.next()).toThrow(/event 2 of 3 is not JSON/);
  });

  test('what is not a page fails before any event is read, saying what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['[{"id":"a"}]', /not a JSON object/],
      ['<html>502 Bad Gateway</html>', /not a JSON object/],
      ['{"data":[{"id":"a"},{"id":"b"', /ends before/],
      ['{"data":[{"id":"a"}]} trailing', /text after/],
      ['{"data":{"id":"a"}}', /"data" is not an array/],
      ['{"data":"events"}', /"data" is not an array/],
      ['{"data":[{"id":"a"},,{"id":"b"}]}', /empty element/],
      ['{"data":[],"meta":{"page":{"after":7}}}', /meta.*page\.after/],
      ['{"data":[],"meta":{"warnings":"slow"}}', /warnings/],
      ['{"data":[], "meta": }', /envelope is not JSON/],
      ['{"data":["unterminated]}', /ends inside a string/],
    ];
    for (const [text, message] of cases) {
      expect(() => readAuditPage(bytes(text))).toThrow(MalformedAuditPage);
      expect(() => readAuditPage(bytes(text))).toThrow(message);
    }
  });

  test('the framing finds each element by its byte offsets, multi-byte characters included', () => {
    const text = '{"data":[{"m":"東京"},{"m":"🚀,]"}]}';
    const buffer = bytes(text);
    const { spans } = frameAuditPage(buffer);
    expect(spans.length).toBe(4);
    expect(buffer.toString('utf8', spans[0], spans[1])).toBe('{"m":"東京"}');
    expect(buffer.toString('utf8', spans[2], spans[3])).toBe('{"m":"🚀,]"}');
  });
});
