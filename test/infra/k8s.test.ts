import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { parse as parseYaml } from 'yaml';
import { kustomizationFiles, kustomizeBuild, podContainers, readManifests, repoPath, type Manifest } from '../support/kustomize.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../cli/platforms.js';
import { loadConfig } from '../../core/config/index.js';

/**
 * Kubernetes' own OpenAPI schemas (kubernetes-models) and KEDA's CRD schemas
 * (@kubernetes-models/keda): types, required fields, enums and formats. Like the API server's
 * OpenAPI, they do not refuse unknown fields; kubectl's strict field validation does that at
 * apply time.
 */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

function validate(m: Manifest): void {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`${m.apiVersion} ${m.kind} ${m.metadata?.name}: no schema to check it against (add its model to MODELS)`);
  new Model(m as never).validate();
}

const BASE = repoPath('infra', 'k8s', 'base');
const OVERLAY = repoPath('infra', 'k8s', 'overlays', 'example');
const byKindName = (ms: Manifest[], kind: string, name: string): Manifest => {
  const found = ms.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `${kind}/${name} is rendered`);
  return found;
};

describe('infra/k8s', () => {
  it('every file of the base and the overlay is valid against the Kubernetes and KEDA schemas', () => {
    const files = [...new Set([...kustomizationFiles(BASE), ...kustomizationFiles(OVERLAY)])];
    assert.ok(files.length >= 9, files.join(', '));
    for (const file of files) {
      for (const m of readManifests(file)) {
        assert.doesNotThrow(() => validate(m), `${file}: ${m.kind}/${m.metadata?.name}`);
      }
    }
  });

  for (const [name, dir] of [
    ['base', BASE],
    ['example overlay', OVERLAY],
  ] as const) {
    it(`the rendered ${name} is valid, and holds together`, async () => {
      const ms = kustomizeBuild(dir);
      for (const m of ms) validate(m);
      const server = byKindName(ms, 'Deployment', 'pantheon-server');
      const worker = byKindName(ms, 'Deployment', 'pantheon-worker');
      assert.ok(((server.spec as { replicas: number }).replicas ?? 1) >= 2, 'two or more server replicas');

      for (const d of [server, worker]) {
        const pod = (d.spec as { template: { spec: PodSpec } }).template.spec;
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${d.metadata.name} runs as non-root`);
        for (const c of podContainers(d) as ContainerSpec[]) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${d.metadata.name}: read-only root filesystem`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
          // Every volume mount names a volume, every ConfigMap and Secret one that is rendered or referenced.
          for (const mount of c.volumeMounts ?? [])
            assert.ok(
              pod.volumes?.some((v) => v.name === mount.name),
              `${d.metadata.name}: volume ${mount.name}`,
            );
          const mounts = (c.volumeMounts ?? []).map((v) => v.mountPath);
          assert.ok(mounts.includes('/tmp') && mounts.includes('/var/lib/pantheon'), `${d.metadata.name}: writable /tmp and data dir`);
          for (const v of pod.volumes ?? []) if (v.configMap) byKindName(ms, 'ConfigMap', v.configMap.name);
          // Secrets by reference only: no Secret is rendered, and the *_FILE variables point into the mounted secret.
          for (const e of c.env ?? [])
            if (e.name.endsWith('_FILE'))
              assert.ok(
                mounts.some((p) => e.value?.startsWith(`${p}/`)),
                `${e.name} points into a mount`,
              );
        }
      }
      assert.ok(!ms.some((m) => m.kind === 'Secret'), 'secrets are referenced, never committed');
      const probes = podContainers(server)[0] as ContainerSpec;
      assert.equal(probes.livenessProbe?.httpGet?.path, '/healthz');
      assert.equal(probes.readinessProbe?.httpGet?.path, '/readyz');
      assert.deepEqual(podContainers(server)[0]!.args, ['start', '--host', '0.0.0.0']);
      assert.deepEqual(podContainers(worker)[0]!.args, ['worker']);

      // The Service selects the server pods; the Ingress sends webhooks to the Service.
      const service = byKindName(ms, 'Service', 'pantheon');
      const labels = (server.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      for (const [k, v] of Object.entries((service.spec as { selector: Record<string, string> }).selector)) assert.equal(labels[k], v);
      const ingress = byKindName(ms, 'Ingress', 'pantheon');
      const paths = (ingress.spec as { rules: Array<{ http: { paths: Array<{ path: string; backend: { service: { name: string } } }> } }> }).rules[0]!.http.paths;
      assert.ok(paths.some((p) => p.path.startsWith('/webhooks') && p.backend.service.name === 'pantheon'));

      // KEDA scales the worker Deployment on BullMQ's waiting lists of the queues Pantheon uses.
      const scaled = byKindName(ms, 'ScaledObject', 'pantheon-worker');
      const spec = scaled.spec as { scaleTargetRef: { name: string }; triggers: Array<{ type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }> };
      assert.equal(spec.scaleTargetRef.name, 'pantheon-worker');
      const lists = spec.triggers.map((t) => t.metadata.listName);
      assert.ok(lists.includes('pantheon:ingress:wait') && lists.includes('pantheon:outbox:wait'), lists.join(', '));
      for (const t of spec.triggers) {
        assert.equal(t.type, 'redis');
        assert.match(t.metadata.address!, /^[\w.-]+:\d+$/);
        assert.match(t.metadata.listLength!, /^\d+$/);
        if (t.authenticationRef) byKindName(ms, 'TriggerAuthentication', t.authenticationRef.name);
      }
      byKindName(ms, 'PodDisruptionBudget', 'pantheon-server');

      // pantheon.yaml in the ConfigMap is a valid Pantheon configuration.
      const text = (byKindName(ms, 'ConfigMap', 'pantheon-config').data as Record<string, string>)['pantheon.yaml']!;
      const tmp = mkdtempSync(join(tmpdir(), 'pantheon-k8s-config-'));
      try {
        writeFileSync(join(tmp, 'pantheon.yaml'), text);
        const { config } = await loadConfig({ configPath: join(tmp, 'pantheon.yaml'), cwd: tmp, env: {} });
        assert.equal(config.server.host, '0.0.0.0');
        assert.equal(config.dataDir, '/var/lib/pantheon/data', 'the data dir is on the writable volume');
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      assert.equal(parseYaml(text).server.host, '0.0.0.0');
    });
  }

  it('the overlay puts everything in its namespace and sets the image', () => {
    const ms = kustomizeBuild(OVERLAY);
    for (const m of ms) if (m.kind !== 'Namespace') assert.equal(m.metadata.namespace, 'pantheon', `${m.kind}/${m.metadata.name}`);
    assert.equal(podContainers(byKindName(ms, 'Deployment', 'pantheon-server'))[0]!.image, 'registry.example.com/pantheon:0.1.0');
  });

  it('a broken manifest fails', () => {
    const [server] = readManifests(repoPath('infra', 'k8s', 'base', 'server.yaml'));
    const broken = structuredClone(server!) as Manifest & { spec: { template: { spec: { containers: Array<{ ports: Array<{ containerPort: unknown }> }> } } } };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'three thousand';
    assert.throws(() => validate(broken), /containerPort must be integer/);
    const noSelector = structuredClone(server!) as Manifest & { spec: Record<string, unknown> };
    delete noSelector.spec.selector;
    assert.throws(() => validate(noSelector), /selector/);
    const [scaled] = readManifests(repoPath('infra', 'k8s', 'base', 'keda.yaml'));
    const badScaled = structuredClone(scaled!) as Manifest & { spec: { triggers: Array<{ metadata: Record<string, unknown> }> } };
    badScaled.spec.triggers[0]!.metadata.listLength = 5;
    assert.throws(() => validate(badScaled), /must be string/);
    assert.throws(() => validate({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }), /no schema/);
  });
});

interface ContainerSpec {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean };
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}
