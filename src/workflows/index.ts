export { auditSpikeWorkflow } from './audit-spike-workflow';
export { containmentWorkflow } from './containment-workflow';
