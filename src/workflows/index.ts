export { auditSpikeWorkflow } from './audit-spike-workflow';
