import type { VersioningBehavior } from '@temporalio/common';
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import { auditSpikeWorkflow } from './audit-spike-workflow';
import { baselineWorkflow } from './baseline-workflow';
import { containmentWorkflow } from './containment-workflow';

// Worker Versioning (#25): how each workflow moves when a new worker version becomes current (see "Upgrading" in the
// README). Only a versioned worker may say so: the server refuses a workflow task completed with a versioning
// behaviour by a worker that polls unversioned (the default), and the run would hang. So each behaviour is given only
// when the task runs on a version of a Worker Deployment.
function onVersionedWorker(versioningBehavior: VersioningBehavior) {
  return () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {});
}

// A scheduled run lasts minutes: it finishes on the version that started it, and the next run starts on the new one.
setWorkflowOptions(onVersionedWorker('PINNED'), auditSpikeWorkflow);
// A containment plan waits for a person for up to response.ttl (24 h by default). Pinned, it would keep the old version's
// workers up for a day after every deploy, and an approval sent after they were scaled down would find no worker. It
// moves to the current version instead, so its code changes go behind patched() and are replay-tested.
setWorkflowOptions(onVersionedWorker('AUTO_UPGRADE'), containmentWorkflow);

// The persons' baselines (#23) live for as long as the org is watched: they move to the current version like containment.
setWorkflowOptions(onVersionedWorker('AUTO_UPGRADE'), baselineWorkflow);

export { auditSpikeWorkflow, baselineWorkflow, containmentWorkflow };
