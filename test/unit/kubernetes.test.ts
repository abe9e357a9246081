import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { loadFleet } from '../../src/config/fleet';
import { WORKER_V8_FLAGS, workerRuntimeSettings } from '../../src/worker-settings';

/**
 * #25: deploy/kubernetes, validated without a cluster. The real kustomize (scripts/setup-kustomize.sh builds the pinned
 * version into .tools/bin) renders the base and the example overlay; every object is checked against the Kubernetes
 * OpenAPI schemas (the kubernetes-models package's validators, no network); then what a schema cannot see: every
 * variable and secret the worker reads is wired, the probes and ports match the worker's own settings, the drain fits
 * in the termination grace period, and the ConfigMap's config passes `audit-spike config check`.
 */

const root = join(__dirname, '..', '..');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
type Container = { name: string; args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: any }>; envFrom?: any[]; ports?: Array<{ name?: string; containerPort: number }>; resources?: any; livenessProbe?: any; readinessProbe?: any; startupProbe?: any; volumeMounts?: any[] };

let kustomize: string;
const rendered = new Map<string, Obj[]>();

function render(path: string): Obj[] {
  let objects = rendered.get(path);
  if (!objects) {
    const text = execFileSync(kustomize, ['build', join(root, path)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    objects = parseAllDocuments(text).map((doc) => doc.toJS() as Obj).filter(Boolean);
    rendered.set(path, objects);
  }
  return objects;
}

const VARIANTS = ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/example'];

function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the render (have ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return found;
}

/** A container's environment as the pod would see it: env entries, and every key of each envFrom ConfigMap. */
function environment(objects: Obj[], container: Container): Map<string, { value?: string; secret?: { name: string; key: string; optional: boolean }; configMap?: string }> {
  const env = new Map<string, { value?: string; secret?: { name: string; key: string; optional: boolean }; configMap?: string }>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const configMap = find(objects, 'ConfigMap', from.configMapRef.name);
      for (const [key, value] of Object.entries(configMap.data ?? {})) env.set(key, { value, configMap: configMap.metadata.name });
    }
    if (from.secretRef) throw new Error('envFrom a Secret hides which variables it sets: use secretKeyRef per variable');
  }
  for (const entry of container.env ?? []) {
    if (entry.valueFrom?.secretKeyRef) {
      const ref = entry.valueFrom.secretKeyRef;
      env.set(entry.name, { secret: { name: ref.name, key: ref.key, optional: ref.optional === true } });
    } else if (entry.valueFrom?.configMapKeyRef) {
      const ref = entry.valueFrom.configMapKeyRef;
      env.set(entry.name, { value: find(objects, 'ConfigMap', ref.name).data?.[ref.key], configMap: ref.name });
    } else {
      env.set(entry.name, { ...(entry.value !== undefined ? { value: entry.value } : {}) });
    }
  }
  return env;
}

function containerOf(objects: Obj[], deployment: string): Container {
  const containers = find(objects, 'Deployment', deployment).spec.template.spec.containers as Container[];
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

/**
 * Unknown field names (a misspelt `livenessProbe`), which the schema validators let through: each object as a literal of
 * its kubernetes-models TypeScript type, so the compiler's excess-property check names any field Kubernetes does not have.
 */
function unknownFields(objects: object[]): string[] {
  mkdirSync(join(root, '.tools'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tools', 'k8s-types-'));
  try {
    const file = join(dir, 'objects.ts');
    const lines = (objects as Obj[]).flatMap((o, i) => {
      const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
      return [`import type { I${o.kind} as T${i} } from 'kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}';`, `export const o${i}: T${i} = ${JSON.stringify(o)};`];
    });
    writeFileSync(file, lines.join('\n'));
    const program = ts.createProgram([file], { noEmit: true, strict: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every secret variable a config names, for the worker (scans, pages, containment) and for the webhook receiver. */
function secretsNamedBy(configText: string): { worker: Set<string>; webhooks: Set<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-k8s-'));
  try {
    const file = join(dir, 'audit-spike.yaml');
    writeFileSync(file, configText);
    const worker = new Set<string>();
    const webhooks = new Set<string>();
    for (const config of loadFleet(file)) {
      const { datadog, pagerduty, response } = config.args;
      worker.add(datadog.apiKeyEnv).add(datadog.appKeyEnv);
      worker.add(pagerduty.mode === 'events' ? pagerduty.routingKeyEnv : pagerduty.tokenEnv);
      if (response?.enabled) {
        webhooks.add(response.webhookSecretEnv).add(pagerduty.mode === 'rest' ? pagerduty.tokenEnv : response.pagerdutyTokenEnv);
        // The containment workflow's note on the incident uses the REST token in REST mode (already above).
      }
    }
    return { worker, webhooks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The AUDIT_SPIKE_* variables the worker process reads, found in the source of the modules it runs at start. */
function variablesTheWorkerReads(): Set<string> {
  const files = ['src/worker.ts', 'src/worker-settings.ts', 'src/telemetry.ts', 'src/codec/data-converter.ts', 'src/temporal-connection.ts', ...readdirSync(join(root, 'src/health')).map((f) => `src/health/${f}`)];
  const names = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(/\b(AUDIT_SPIKE_[A-Z_]+|TEMPORAL_(?:DEPLOYMENT_NAME|WORKER_BUILD_ID))\b/g)) names.add(match[1]!);
  }
  return names;
}

/** Read by the worker but deliberately left to their defaults in the manifests (each says why). */
const LEFT_TO_DEFAULTS: Record<string, string> = {
  AUDIT_SPIKE_LOG_LEVEL: 'INFO is right for production',
  AUDIT_SPIKE_ENCRYPTION_KEY_ID: 'set with a rotation only (README: Payload encryption)',
  AUDIT_SPIKE_ENCRYPTION_OLD_KEYS: 'set with a rotation only; the codec server has it, optional',
  AUDIT_SPIKE_WORKER_VERSIONING: 'versioning is set up by the Worker Controller (TEMPORAL_DEPLOYMENT_NAME/TEMPORAL_WORKER_BUILD_ID) or by a blue-green overlay',
  AUDIT_SPIKE_DEPLOYMENT_NAME: 'only with versioning',
  AUDIT_SPIKE_BUILD_ID: 'only with versioning',
  TEMPORAL_DEPLOYMENT_NAME: 'injected by the Temporal Worker Controller',
  TEMPORAL_WORKER_BUILD_ID: 'injected by the Temporal Worker Controller',
};

beforeAll(() => {
  const setup = spawnSync('bash', [join(root, 'scripts/setup-kustomize.sh'), '--quiet'], { encoding: 'utf8', timeout: 900_000 });
  if (setup.status !== 0) throw new Error(`scripts/setup-kustomize.sh failed:\n${setup.stderr}`);
  kustomize = setup.stdout.trim();
}, 900_000);

describe.each(VARIANTS)('kustomize build %s', (variant) => {
  test('every object validates against the Kubernetes OpenAPI schema', () => {
    const objects = render(variant);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort()).toEqual(expect.arrayContaining([
      'ConfigMap/audit-spike-config', 'ConfigMap/audit-spike-temporal', 'Deployment/audit-spike-codec-server', 'Deployment/audit-spike-webhooks',
      'Deployment/audit-spike-worker', 'HorizontalPodAutoscaler/audit-spike-worker', 'Job/audit-spike-schedule-apply',
      'PodDisruptionBudget/audit-spike-webhooks', 'PodDisruptionBudget/audit-spike-worker', 'Service/audit-spike-codec-server', 'Service/audit-spike-webhooks',
    ]));
    const run = spawnSync(process.execPath, [join(root, 'test/support/validate-kubernetes.mjs')], { input: JSON.stringify(objects), encoding: 'utf8', cwd: root, timeout: 60_000 });
    expect(run.stderr).toBe('');
    const results = JSON.parse(run.stdout) as Array<{ kind: string; name: string; errors: string[] }>;
    expect(results).toHaveLength(objects.length);
    expect(results.filter((r) => r.errors.length)).toEqual([]);
  });

  test('the validator is not a rubber stamp: a broken object fails it', () => {
    const worker = structuredClone(find(render(variant), 'Deployment', 'audit-spike-worker')) as any;
    worker.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    delete worker.spec.selector;
    const run = spawnSync(process.execPath, [join(root, 'test/support/validate-kubernetes.mjs')], { input: JSON.stringify([worker, { apiVersion: 'example.com/v1', kind: 'Nothing', metadata: { name: 'x' } }]), encoding: 'utf8', cwd: root, timeout: 60_000 });
    const [broken, unknown] = JSON.parse(run.stdout) as Array<{ errors: string[] }>;
    expect(broken!.errors.join('\n')).toMatch(/containerPort must be integer/);
    expect(broken!.errors.join('\n')).toMatch(/selector/);
    expect(unknown!.errors.join('\n')).toMatch(/no schema for example.com\/v1 Nothing/);
  });

  test('no object has a field Kubernetes does not know (the API types of kubernetes-models, by the TypeScript compiler)', () => {
    const objects = render(variant);
    expect(unknownFields(objects)).toEqual([]);
    const worker = structuredClone(find(objects, 'Deployment', 'audit-spike-worker')) as any;
    worker.spec.template.spec.containers[0].livenesProbe = worker.spec.template.spec.containers[0].livenessProbe;
    expect(unknownFields([worker]).join('\n')).toMatch(/'"?livenesProbe"?' does not exist in type 'IContainer'/);
  }, 120_000);

  test('Secrets are referenced by name, never rendered; every ConfigMap reference resolves', () => {
    const objects = render(variant);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/stringData|"data":\{"(api-key|app-key|routing-key|key)"/);
    for (const deployment of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job')) {
      const pod = deployment.spec.template.spec;
      for (const volume of pod.volumes ?? []) if (volume.configMap) find(objects, 'ConfigMap', volume.configMap.name);
      for (const container of pod.containers as Container[]) environment(objects, container);
    }
  });

  test('every variable and secret the worker reads is wired', () => {
    const objects = render(variant);
    const worker = containerOf(objects, 'audit-spike-worker');
    const env = environment(objects, worker);
    const configText = Object.values(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('audit-spike-config-'))!.data!)[0]!;
    const { worker: workerSecrets, webhooks: webhookSecrets } = secretsNamedBy(configText);
    expect(workerSecrets.size).toBeGreaterThan(0);
    for (const name of workerSecrets) {
      expect([name, env.get(name)?.secret]).toEqual([name, expect.objectContaining({ name: expect.stringMatching(/^audit-spike-/), optional: false })]);
    }
    const webhooks = environment(objects, containerOf(objects, 'audit-spike-webhooks'));
    for (const name of webhookSecrets) expect([name, webhooks.get(name)?.secret]).toEqual([name, expect.objectContaining({ optional: false })]);
    // Temporal: where, which namespace; the API key (Temporal Cloud) from a Secret.
    expect(env.get('TEMPORAL_ADDRESS')?.value).toMatch(/^[^\s:]+:\d+$/);
    expect(env.get('TEMPORAL_NAMESPACE')?.value).toBeTruthy();
    expect(env.get('TEMPORAL_API_KEY')?.secret).toBeDefined();
    // Every AUDIT_SPIKE_* variable the worker reads is set, or left to its default on purpose.
    for (const name of Object.keys(LEFT_TO_DEFAULTS)) expect([name, variablesTheWorkerReads().has(name)]).toEqual([name, true]);
    const unwired = [...variablesTheWorkerReads()].filter((name) => !env.has(name) && !(name in LEFT_TO_DEFAULTS));
    expect(unwired).toEqual([]);
    // Encryption: the worker, the receiver, the Schedule's client and the codec server share one key.
    for (const name of ['audit-spike-webhooks', 'audit-spike-codec-server']) {
      expect(environment(objects, containerOf(objects, name)).get('AUDIT_SPIKE_ENCRYPTION_KEY')?.secret).toEqual(env.get('AUDIT_SPIKE_ENCRYPTION_KEY')?.secret);
    }
    const job = find(objects, 'Job', 'audit-spike-schedule-apply').spec.template.spec.containers[0] as Container;
    expect(environment(objects, job).get('AUDIT_SPIKE_ENCRYPTION_KEY')?.secret).toEqual(env.get('AUDIT_SPIKE_ENCRYPTION_KEY')?.secret);
    // The worker's own settings parse (the same parser the worker runs at start).
    const settings = workerRuntimeSettings(Object.fromEntries([...env].map(([name, v]) => [name, v.value ?? 'set-from-a-secret'])));
    expect(settings.healthAddress).toBeDefined();
    expect(settings.versioning).toBeUndefined();
  });

  test('probes, ports, memory and the drain fit the worker', () => {
    const objects = render(variant);
    const pod = find(objects, 'Deployment', 'audit-spike-worker').spec.template.spec;
    const worker = containerOf(objects, 'audit-spike-worker');
    const env = environment(objects, worker);
    const value = (name: string) => env.get(name)?.value ?? '';
    const settings = workerRuntimeSettings(Object.fromEntries([...env].map(([name, v]) => [name, v.value ?? 'x'])));
    const port = (name: string) => worker.ports!.find((p) => p.name === name)!.containerPort;
    expect(Number(settings.healthAddress!.split(':')[1])).toBe(port('health'));
    expect(value('AUDIT_SPIKE_METRICS_ADDRESS')).toBe(`0.0.0.0:${port('metrics')}`);
    expect(find(objects, 'Deployment', 'audit-spike-worker').spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port('metrics')));
    expect(worker.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'health' });
    expect(worker.startupProbe.httpGet).toEqual({ path: '/livez', port: 'health' });
    expect(worker.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    // SIGTERM: drain (grace), then give up (force), both before the kubelet's SIGKILL.
    expect(settings.shutdownGraceMs).toBeGreaterThanOrEqual(30_000);
    expect(settings.shutdownForceMs).toBeGreaterThan(settings.shutdownGraceMs);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(settings.shutdownForceMs!);
    // Memory: a 512Mi limit, requested in full; V8's heap capped well below it for the native side.
    expect(worker.resources.limits.memory).toBe('512Mi');
    expect(worker.resources.requests.memory).toBe('512Mi');
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(value('NODE_OPTIONS'))?.[1]);
    expect(heapMb).toBeGreaterThanOrEqual(256);
    expect(heapMb).toBeLessThanOrEqual(512 * 0.8);
    for (const flag of WORKER_V8_FLAGS) expect(value('NODE_OPTIONS').split(' ')).toContain(flag);
    expect(worker.args).toEqual(['worker']);
  });

  test('the PDB, the autoscaler and the Services select what they mean to', () => {
    const objects = render(variant);
    const labelsOf = (deployment: string) => find(objects, 'Deployment', deployment).spec.template.metadata.labels as Record<string, string>;
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const workerLabels = labelsOf('audit-spike-worker');
    expect(selects(find(objects, 'PodDisruptionBudget', 'audit-spike-worker').spec.selector.matchLabels, workerLabels)).toBe(true);
    expect(selects(find(objects, 'PodDisruptionBudget', 'audit-spike-worker').spec.selector.matchLabels, labelsOf('audit-spike-webhooks'))).toBe(false);
    expect(selects(find(objects, 'PodDisruptionBudget', 'audit-spike-webhooks').spec.selector.matchLabels, labelsOf('audit-spike-webhooks'))).toBe(true);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'audit-spike-worker').spec;
    expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'audit-spike-worker' });
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(find(objects, 'PodDisruptionBudget', 'audit-spike-worker').spec.minAvailable + 1);
    // The metric the worker really exports (test/faults/drain.test.ts reads it from a running worker).
    expect(hpa.metrics[0].pods.metric).toEqual({ name: 'temporal_worker_task_slots_used', selector: { matchLabels: { worker_type: 'ActivityWorker' } } });
    for (const [service, deployment, path] of [['audit-spike-webhooks', 'audit-spike-webhooks', '/healthz'], ['audit-spike-codec-server', 'audit-spike-codec-server', undefined]] as const) {
      const spec = find(objects, 'Service', service).spec;
      expect(selects(spec.selector, labelsOf(deployment))).toBe(true);
      const container = containerOf(objects, deployment);
      expect(container.ports!.map((p) => p.name)).toContain(spec.ports[0].targetPort);
      const listening = Number(container.args![container.args!.indexOf('--port') + 1]);
      expect(container.ports!.find((p) => p.name === spec.ports[0].targetPort)!.containerPort).toBe(listening);
      if (path) expect(container.readinessProbe.httpGet.path).toBe(path);
      expect(container.args).toContain('0.0.0.0');
    }
  });

  test('the ConfigMap\'s config passes `audit-spike config check`, and the receiver and the Job read it where it is mounted', () => {
    const objects = render(variant);
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('audit-spike-config-'))!;
    const [[fileName, text]] = Object.entries(configMap.data!) as [[string, string]];
    const dir = mkdtempSync(join(tmpdir(), 'audit-spike-k8s-'));
    try {
      const file = join(dir, fileName);
      writeFileSync(file, text);
      const check = spawnSync(process.execPath, [join(root, 'bin/audit-spike.js'), 'config', 'check', file], { encoding: 'utf8', timeout: 60_000 });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
      expect(check.stdout).toMatch(/OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const [kind, name] of [['Deployment', 'audit-spike-webhooks'], ['Job', 'audit-spike-schedule-apply']] as const) {
      const pod = find(objects, kind, name).spec.template.spec;
      const container = pod.containers[0] as Container;
      const mount = container.volumeMounts!.find((m) => pod.volumes.find((v: any) => v.name === m.name)?.configMap?.name === configMap.metadata.name)!;
      expect(container.args).toContain(`${mount.mountPath}/${fileName}`);
    }
  });
});
