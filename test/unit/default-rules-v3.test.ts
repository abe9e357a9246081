import { parseConfigText } from '../../src/config/load';
import { runRuleTests } from '../../src/replay/rules-test';

/** Catalog v3's rule tests (beside each rule, src/config/default-rules/behaviour.ts), as `audit-spike rules test` runs them. */
describe.each(['new_country_sensitive', 'impossible_travel', 'multi_rule'])('default rule %s', (ruleId) => {
  test('its tests pass through the replay (the live path)', () => {
    const results = runRuleTests(parseConfigText('', 'defaults'), ruleId);
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(results.filter((r) => r.outcome !== 'pass').map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  });
});
