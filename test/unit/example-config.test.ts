import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RULES } from '../../src/config/default-rules';
import { loadFleet } from '../../src/config/fleet';

const path = join(__dirname, '..', '..', 'examples', 'audit-spike.yaml');

/** #26: the example config agrees with the README and the catalog. */
test('examples/audit-spike.yaml asks for audit_logs_read, names every rule of the default catalog, and is valid', () => {
  const text = readFileSync(path, 'utf8');
  expect(text).toContain('audit_logs_read');
  expect(text).not.toContain('audit_trail_read');
  const missing = DEFAULT_RULES.map((rule) => rule.id).filter((id) => !new RegExp(`\\b${id}\\b`).test(text));
  expect(missing).toEqual([]);
  expect(text).toContain(`these ${DEFAULT_RULES.length} rules`);
  expect(() => loadFleet(path)).not.toThrow();
});
