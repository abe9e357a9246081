// The workflows the fleet bench's workers run: the product's own, imported from their files rather than through
// src/workflows/index.ts, so the bench measures the same code on an unversioned worker whatever Worker Versioning
// options index.ts sets (a PINNED behaviour on an unversioned worker is refused by the server, see docs/performance.md).
export { auditSpikeWorkflow } from '../src/workflows/audit-spike-workflow';
export { containmentWorkflow } from '../src/workflows/containment-workflow';
