import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;

/**
 * A run's billable actions read from its history with Temporal Cloud's published mapping (docs.temporal.io/cloud/actions,
 * "History Event Type" of each action): a workflow start, each activity scheduled and each retry (`attempt` − 1 on its
 * started event), all markers of one workflow task as one action (local activities, patches), each search-attribute
 * upsert (but not the TemporalChangeVersion upsert that comes with a patch: exempt), timer, signal, child workflow start (two), continue-as-new, accepted update, Nexus operation, and the retried
 * local activities a workflow task reports. A memo change (WorkflowPropertiesModified) is not in the mapping. Not in a
 * history either: a Schedule's own two actions per scheduled run, queries, activity heartbeats.
 */
export function cloudActionsOf(history: History): { total: number; byType: Record<string, number> } {
  const byType: Record<string, number> = {};
  const add = (type: string, n = 1) => {
    if (n > 0) byType[type] = (byType[type] ?? 0) + n;
  };
  const markerTasks = new Set<string>();
  for (const event of history.events ?? []) {
    if (event.workflowExecutionStartedEventAttributes) add('start_workflow');
    else if (event.activityTaskScheduledEventAttributes) add('schedule_activity');
    else if (event.activityTaskStartedEventAttributes) add('retry_activity', (event.activityTaskStartedEventAttributes.attempt ?? 1) - 1);
    else if (event.markerRecordedEventAttributes) markerTasks.add(String(event.markerRecordedEventAttributes.workflowTaskCompletedEventId));
    else if (event.upsertWorkflowSearchAttributesEventAttributes) {
      // The TemporalChangeVersion upsert the SDK adds beside each patch marker is exempt.
      const keys = Object.keys(event.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {});
      if (keys.some((key) => key !== 'TemporalChangeVersion')) add('upsert_workflow_search_attributes');
    }
    else if (event.timerStartedEventAttributes) add('start_timer');
    else if (event.workflowExecutionSignaledEventAttributes) add('signal_workflow');
    else if (event.startChildWorkflowExecutionInitiatedEventAttributes) add('start_child_workflow', 2);
    else if (event.workflowExecutionContinuedAsNewEventAttributes) add('continue_as_new_workflow');
    else if (event.workflowExecutionUpdateAcceptedEventAttributes) add('accept_workflow_update');
    else if (event.nexusOperationScheduledEventAttributes) add('schedule_nexus_operation');
    else if (event.nexusOperationCancelRequestedEventAttributes) add('request_nexus_operation_cancellation');
    else if (event.workflowExecutionOptionsUpdatedEventAttributes) add('update_workflow_options');
    else if (event.workflowTaskCompletedEventAttributes) {
      add('retry_activity_local', event.workflowTaskCompletedEventAttributes.meteringMetadata?.nonfirstLocalActivityExecutionAttempts ?? 0);
    }
  }
  add('record_activity_markers', markerTasks.size);
  return { total: Object.values(byType).reduce((sum, n) => sum + n, 0), byType };
}

/**
 * The same run as the server's `action` metric counts it (frontend telemetry interceptor, Temporal server 1.32): the
 * start, and per completed workflow task each scheduled activity, timer, search-attribute upsert, memo change
 * (ModifyWorkflowProperties), signal, continue-as-new, child start (two), plus one for all its markers.
 */
export function serverRuleActionsOf(history: History): { total: number; byType: Record<string, number> } {
  const byType: Record<string, number> = {};
  const add = (type: string, n = 1) => {
    if (n > 0) byType[type] = (byType[type] ?? 0) + n;
  };
  const markerTasks = new Set<string>();
  const counted: Array<[keyof Event, string, number]> = [
    ['activityTaskScheduledEventAttributes', 'command_ScheduleActivityTask', 1],
    ['timerStartedEventAttributes', 'command_StartTimer', 1],
    ['upsertWorkflowSearchAttributesEventAttributes', 'command_UpsertWorkflowSearchAttributes', 1],
    ['workflowPropertiesModifiedEventAttributes', 'command_ModifyWorkflowProperties', 1],
    ['signalExternalWorkflowExecutionInitiatedEventAttributes', 'command_SignalExternalWorkflowExecution', 1],
    ['startChildWorkflowExecutionInitiatedEventAttributes', 'command_StartChildWorkflowExecution', 2],
    ['workflowExecutionContinuedAsNewEventAttributes', 'command_ContinueAsNewWorkflowExecution', 1],
  ];
  for (const event of history.events ?? []) {
    if (event.workflowExecutionStartedEventAttributes) add('grpc_StartWorkflowExecution');
    if (event.markerRecordedEventAttributes) markerTasks.add(String(event.markerRecordedEventAttributes.workflowTaskCompletedEventId));
    if (event.activityTaskStartedEventAttributes) add('activity_retry', (event.activityTaskStartedEventAttributes.attempt ?? 1) - 1);
    for (const [attributes, type, n] of counted) if (event[attributes]) add(type, n);
  }
  add('command_BatchMarkers', markerTasks.size);
  return { total: Object.values(byType).reduce((sum, n) => sum + n, 0), byType };
}

/** The server's `action` counters of one namespace from its Prometheus endpoint, by action type. */
export async function scrapeActions(metricsUrl: string, namespace = 'default'): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('action{')) continue;
    const labels = line.slice('action{'.length, line.lastIndexOf('}'));
    if (!labels.includes(`namespace="${namespace}"`)) continue;
    const type = /action_type="([^"]+)"/.exec(labels)?.[1] ?? 'unknown';
    counts[type] = (counts[type] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** What grew between two scrapes, by action type (types that did not move are left out). */
export function actionsBetween(before: Record<string, number>, after: Record<string, number>): { total: number; byType: Record<string, number> } {
  const byType: Record<string, number> = {};
  for (const [type, value] of Object.entries(after)) {
    const grown = value - (before[type] ?? 0);
    if (grown > 0) byType[type] = grown;
  }
  return { total: Object.values(byType).reduce((sum, n) => sum + n, 0), byType };
}
