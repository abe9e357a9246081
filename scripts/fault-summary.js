#!/usr/bin/env node
// Prints the fault suite's summary line (written by test/faults/fault-suite.test.ts) as the last line of its output.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'test-results', 'faults-summary.json');
if (!fs.existsSync(file)) {
  console.log('faults: 0 scenarios, 0 faults injected, 0 bursts expected, 0 paged, 0 missed, 0 duplicated (the fault suite did not finish)');
  process.exit(1);
}
const summary = JSON.parse(fs.readFileSync(file, 'utf8'));
for (const scenario of summary.scenarios.filter((s) => s.problems.length)) console.log(`  ${scenario.label}\n    ${scenario.problems.join('\n    ')}`);
console.log(summary.line);
process.exit(summary.missed === 0 && summary.duplicated === 0 ? 0 : 1);
