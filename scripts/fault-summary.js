#!/usr/bin/env node
// Prints the fault suite's summary line (written by test/faults/fault-suite.test.ts) as the last line of its output,
// after the scenarios that disagreed with their reference and a tally of the fault kinds played.
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
// Labels read "#i seed S mode: … faults kind@step kind@step"; the tally says how often each kind and mode was played.
const tally = new Map();
for (const scenario of summary.scenarios) {
  const mode = /^#\d+ seed \d+ (\w+):/.exec(scenario.label)?.[1];
  if (mode) tally.set(`${mode} mode`, (tally.get(`${mode} mode`) ?? 0) + 1);
  for (const kind of (/faults (.*)$/.exec(scenario.label)?.[1] ?? '').split(' ').filter(Boolean).map((f) => f.split('@')[0])) tally.set(kind, (tally.get(kind) ?? 0) + 1);
}
if (tally.size) console.log(`  played: ${[...tally].map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
console.log(summary.line);
process.exit(summary.missed === 0 && summary.duplicated === 0 ? 0 : 1);
