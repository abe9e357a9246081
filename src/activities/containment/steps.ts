import { z } from 'zod';
import { DatadogTargetSchema, describeIssues, type DatadogTarget } from '../../config/args-schema';
import { PlanStepSchema, type PlanStep } from '../../response/plan';
import { needsAttention } from '../failures';
import type { Environment } from '../secrets';
import { createDatadogAdminClient, datadogFailure, statusOf, type DatadogAdminClient } from './datadog-admin-client';

/**
 * The Datadog side of a containment plan (#17): one idempotent call per step, safe to retry after a crash at any point.
 * - disable a user: read it, PATCH `disabled: true` unless it already is (a retry finds it disabled: done);
 * - revoke a key: read it (404: already revoked, done), refuse the worker's own, DELETE (404 meanwhile: done);
 * - undo: PATCH `disabled: false` unless already enabled.
 * audit-spike's own identity (the user owning its application key, its API key) is never acted on.
 */

export const StepInputSchema = z.object({ datadog: DatadogTargetSchema, step: PlanStepSchema, userId: z.string().min(1).optional() }).strict();
export interface StepInput {
  datadog: DatadogTarget;
  step: PlanStep;
  /** Undo: the user the step disabled (its result said so). */
  userId?: string;
}

export interface StepResult {
  stepId: string;
  /** done: this call did it; already: it was so before (a retry, or someone else); refused: never acted on, and why. */
  result: 'done' | 'already' | 'refused';
  detail: string;
  /** A user step: the Datadog user id acted on (for undo). */
  userId?: string;
  /** When the worker finished the step (its clock). */
  at: string;
}

interface OwnIdentity {
  userIds: Set<string>;
  appKeyIds: Set<string>;
}

interface UserFound {
  id: string;
  email: string;
  disabled: boolean;
  serviceAccount: boolean;
}

export function createContainmentSteps(deps: { env: Environment; now?: () => number }) {
  const clients = new Map<string, DatadogAdminClient>();
  const identities = new Map<string, Promise<OwnIdentity>>();
  const now = deps.now ?? Date.now;
  const clientFor = (target: DatadogTarget) => {
    const key = JSON.stringify(target);
    let found = clients.get(key);
    if (!found) {
      found = createDatadogAdminClient(target, deps.env);
      clients.set(key, found);
    }
    return found;
  };

  /** Whose keys the worker holds: the owner of its application key(s), learned once per worker (and again after a failure). */
  const ownIdentity = (target: DatadogTarget, dd: DatadogAdminClient): Promise<OwnIdentity> => {
    const key = JSON.stringify(target);
    let found = identities.get(key);
    if (!found) {
      found = (async () => {
        try {
          const listed = await dd.keys.listCurrentUserApplicationKeys({ pageSize: 100 });
          const identity: OwnIdentity = { userIds: new Set(), appKeyIds: new Set() };
          for (const appKey of listed.data ?? []) {
            if (appKey.id) identity.appKeyIds.add(appKey.id);
            const owner = appKey.relationships?.ownedBy?.data?.id;
            if (owner) identity.userIds.add(owner);
          }
          return identity;
        } catch (error) {
          identities.delete(key);
          throw datadogFailure(error, "list the worker's own application keys", 'user_app_keys (any user has it)');
        }
      })();
      identities.set(key, found);
    }
    return found;
  };

  const at = () => new Date(now()).toISOString();

  async function findUser(dd: DatadogAdminClient, step: PlanStep, userId: string | undefined): Promise<UserFound | undefined> {
    const read = (user: { id?: string; attributes?: { email?: string; disabled?: boolean; serviceAccount?: boolean } }): UserFound => ({
      id: user.id ?? '', email: (user.attributes?.email ?? '').toLowerCase(), disabled: user.attributes?.disabled === true, serviceAccount: user.attributes?.serviceAccount === true,
    });
    const id = userId ?? step.target.userId;
    if (id) {
      try {
        const found = await dd.users.getUser({ userId: id });
        return found.data ? read(found.data) : undefined;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw datadogFailure(error, `read the Datadog user ${id}`, 'user_access_read');
      }
    }
    const email = step.target.email!.toLowerCase();
    try {
      const listed = await dd.users.listUsers({ filter: email, pageSize: 100 });
      const exact = (listed.data ?? []).map(read).filter((user) => user.email === email);
      return exact[0];
    } catch (error) {
      throw datadogFailure(error, `find the Datadog user ${email}`, 'user_access_read');
    }
  }

  async function setDisabled(input: StepInput, disabled: boolean): Promise<StepResult> {
    const { step } = input;
    const dd = clientFor(input.datadog);
    const own = await ownIdentity(input.datadog, dd);
    const base = { stepId: step.id };
    const user = await findUser(dd, step, input.userId);
    const who = step.target.email ?? step.target.userId ?? input.userId;
    if (!user) {
      if (disabled) throw needsAttention('DatadogUserNotFound', `No Datadog user ${who}: nothing to disable (renamed, or not a user of this org?)`);
      throw needsAttention('DatadogUserNotFound', `No Datadog user ${who}: nothing to re-enable`);
    }
    if (own.userIds.has(user.id)) {
      return { ...base, result: 'refused', detail: `${user.email || user.id} is audit-spike's own identity (it owns the worker's application key): never acted on`, userId: user.id, at: at() };
    }
    if (user.disabled === disabled) {
      return { ...base, result: 'already', detail: `${user.email || user.id} was already ${disabled ? 'disabled' : 'enabled'}`, userId: user.id, at: at() };
    }
    try {
      await dd.users.updateUser({ userId: user.id, body: { data: { type: 'users', id: user.id, attributes: { disabled } } } });
    } catch (error) {
      throw datadogFailure(error, `${disabled ? 'disable' : 're-enable'} the Datadog user ${user.email || user.id}`, 'user_access_manage');
    }
    return { ...base, result: 'done', detail: `${user.serviceAccount ? 'service account' : 'user'} ${user.email || user.id} (${user.id}) ${disabled ? 'disabled' : 're-enabled'}`, userId: user.id, at: at() };
  }

  async function revokeApiKey(input: StepInput): Promise<StepResult> {
    const keyId = input.step.target.keyId!;
    const dd = clientFor(input.datadog);
    const base = { stepId: input.step.id };
    try {
      const found = await dd.keys.getAPIKey({ apiKeyId: keyId });
      if (found.data?.attributes?.key === dd.ownApiKey) {
        return { ...base, result: 'refused', detail: `API key ${keyId} is the key audit-spike itself uses: never revoked (it would lock the worker out)`, at: at() };
      }
    } catch (error) {
      if (statusOf(error) === 404) return { ...base, result: 'already', detail: `API key ${keyId} was already revoked (not found)`, at: at() };
      throw datadogFailure(error, `read the API key ${keyId}`, 'api_keys_read');
    }
    try {
      await dd.keys.deleteAPIKey({ apiKeyId: keyId });
    } catch (error) {
      if (statusOf(error) === 404) return { ...base, result: 'already', detail: `API key ${keyId} was already revoked (not found)`, at: at() };
      throw datadogFailure(error, `revoke the API key ${keyId}`, 'api_keys_delete');
    }
    return { ...base, result: 'done', detail: `API key ${keyId} revoked`, at: at() };
  }

  async function revokeAppKey(input: StepInput): Promise<StepResult> {
    const keyId = input.step.target.keyId!;
    const dd = clientFor(input.datadog);
    const own = await ownIdentity(input.datadog, dd);
    const base = { stepId: input.step.id };
    if (own.appKeyIds.has(keyId)) {
      return { ...base, result: 'refused', detail: `application key ${keyId} belongs to audit-spike itself: never revoked`, at: at() };
    }
    try {
      const found = await dd.keys.getApplicationKey({ appKeyId: keyId, include: 'owned_by' });
      const owner = found.data?.relationships?.ownedBy?.data?.id;
      if (owner && own.userIds.has(owner)) {
        return { ...base, result: 'refused', detail: `application key ${keyId} is owned by audit-spike's own identity: never revoked`, at: at() };
      }
    } catch (error) {
      if (statusOf(error) === 404) return { ...base, result: 'already', detail: `application key ${keyId} was already revoked (not found)`, at: at() };
      throw datadogFailure(error, `read the application key ${keyId}`, 'org_app_keys_read');
    }
    try {
      await dd.keys.deleteApplicationKey({ appKeyId: keyId });
    } catch (error) {
      if (statusOf(error) === 404) return { ...base, result: 'already', detail: `application key ${keyId} was already revoked (not found)`, at: at() };
      throw datadogFailure(error, `revoke the application key ${keyId}`, 'org_app_keys_write');
    }
    return { ...base, result: 'done', detail: `application key ${keyId} revoked`, at: at() };
  }

  const validated = (input: StepInput, what: string): StepInput => {
    const parsed = StepInputSchema.safeParse(input);
    if (!parsed.success) throw needsAttention('BadContainmentInput', `${what} got invalid input:\n${describeIssues(parsed.error).join('\n')}`);
    return parsed.data;
  };

  return {
    async containmentStep(raw: StepInput): Promise<StepResult> {
      const input = validated(raw, 'containmentStep');
      if (input.step.kind === 'disable_user') return setDisabled(input, true);
      if (input.step.kind === 'revoke_api_key') return revokeApiKey(input);
      return revokeAppKey(input);
    },
    async undoContainmentStep(raw: StepInput): Promise<StepResult> {
      const input = validated(raw, 'undoContainmentStep');
      if (input.step.kind !== 'disable_user') throw needsAttention('NotUndoable', `step ${input.step.id} cannot be undone: a revoked key cannot come back`);
      return setDisabled(input, false);
    },
  };
}
