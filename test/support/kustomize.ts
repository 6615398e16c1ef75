import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/** A Kubernetes object as read from YAML. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The kustomization fields `kustomize build` would apply that this renderer implements. */
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'replicas', 'patches']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass']);

/** Reads every YAML document of a file (comments and empty documents dropped). */
export function readManifests(file: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest;
    })
    .filter((m) => m !== null);
}

/**
 * `kustomize build DIR` for the subset of kustomize Pantheon's manifests use: `resources`
 * (files and directories with their own kustomization), `namespace`, `images`, `replicas` and
 * `patches` with inline JSON 6902 operations. Anything else in a kustomization is an error, so
 * a manifest never silently relies on a feature this renderer ignores. (No kustomize binary is
 * on npm, and kubectl needs nothing more than what is listed here.)
 */
export function kustomizeBuild(dir: string): Manifest[] {
  const file = join(dir, 'kustomization.yaml');
  const k = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const key of Object.keys(k)) if (!SUPPORTED.has(key)) throw new Error(`${file}: "${key}" is not supported by the test renderer`);
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') throw new Error(`${file}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);

  let out: Manifest[] = [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new Error(`${file}: resource ${entry} does not exist`);
    out.push(...(statSync(path).isDirectory() ? kustomizeBuild(path) : readManifests(path)));
  }
  const ids = new Set<string>();
  for (const m of out) {
    const id = `${m.kind}/${m.metadata?.namespace ?? ''}/${m.metadata?.name}`;
    if (ids.has(id)) throw new Error(`${file}: ${id} appears twice`);
    ids.add(id);
  }
  if (typeof k.namespace === 'string') {
    out = out.map((m) => (CLUSTER_SCOPED.has(m.kind) ? m : { ...m, metadata: { ...m.metadata, namespace: k.namespace as string } }));
  }
  for (const image of (k.images as Array<{ name: string; newName?: string; newTag?: string }> | undefined) ?? []) {
    for (const m of out) {
      for (const c of podContainers(m)) {
        const [name, tag] = splitImage(c.image);
        if (name === image.name) c.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ''}`;
      }
    }
  }
  for (const r of (k.replicas as Array<{ name: string; count: number }> | undefined) ?? []) {
    const target = out.find((m) => ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(m.kind) && m.metadata.name === r.name);
    if (!target) throw new Error(`${file}: replicas names ${r.name}, which no resource is`);
    (target.spec as Record<string, unknown>).replicas = r.count;
  }
  for (const p of (k.patches as Array<{ target?: { kind?: string; name?: string }; patch?: string; path?: string }> | undefined) ?? []) {
    if (!p.target || typeof p.patch !== 'string') throw new Error(`${file}: only patches with a target and an inline JSON 6902 patch are supported`);
    const targets = out.filter((m) => (!p.target!.kind || m.kind === p.target!.kind) && (!p.target!.name || m.metadata.name === p.target!.name));
    if (targets.length === 0) throw new Error(`${file}: patch target ${JSON.stringify(p.target)} matches no resource`);
    const ops = parseYaml(p.patch) as JsonPatchOp[];
    for (const t of targets) for (const op of ops) applyJsonPatch(t, op, file);
  }
  return out;
}

interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

function applyJsonPatch(doc: unknown, op: JsonPatchOp, file: string): void {
  const parts = op.path
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = parts.pop()!;
  let at = doc as Record<string, unknown>;
  for (const part of parts) {
    const next = at?.[part];
    if (next === undefined || next === null || typeof next !== 'object') throw new Error(`${file}: patch path ${op.path} does not exist`);
    at = next as Record<string, unknown>;
  }
  if (op.op === 'replace' || op.op === 'remove') {
    if (!(last in at)) throw new Error(`${file}: patch path ${op.path} does not exist (${op.op})`);
  }
  if (op.op === 'remove') {
    if (Array.isArray(at)) at.splice(Number(last), 1);
    else delete at[last];
  } else if (Array.isArray(at) && op.op === 'add') {
    if (last === '-') at.push(op.value);
    else at.splice(Number(last), 0, op.value);
  } else if (op.op === 'add' || op.op === 'replace') {
    at[last] = op.value;
  } else {
    throw new Error(`${file}: JSON patch op ${(op as { op: string }).op} is not supported`);
  }
}

/** The containers (and init containers) of a workload's pod template. */
export function podContainers(m: Manifest): Array<{ name: string; image: string; [key: string]: unknown }> {
  const spec = (m.spec as { template?: { spec?: { containers?: unknown[]; initContainers?: unknown[] } } } | undefined)?.template?.spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])] as Array<{ name: string; image: string }>;
}

function splitImage(image: string): [string, string | undefined] {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, undefined];
}

/** Every `.yaml` file the kustomization in `dir` lists, recursively (for validating each file). */
export function kustomizationFiles(dir: string): string[] {
  const k = parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources?: string[] };
  return (k.resources ?? []).flatMap((entry) => {
    const path = resolve(dir, entry);
    return statSync(path).isDirectory() ? kustomizationFiles(path) : [path];
  });
}

export const repoPath = (...parts: string[]): string => resolve(dirname(new URL(import.meta.url).pathname), '..', '..', ...parts);
