/**
 * How run_workspace_command behaves with no sandbox (`sandbox.backend: none`) and with none
 * usable: the first waits for an approver on every call, whatever the policy; the second is
 * refused with what to install, and runs nothing.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pantheonConfigSchema } from '../../core/config/schema.js';
import { decide } from '../../tools/policy.js';
import { resolveSandbox } from '../../tools/sandbox/resolve.js';
import { SandboxUnavailableError } from '../../tools/sandbox/types.js';
import { runCommandTool } from '../../tools/workspace/run-command.js';
import { Workspaces } from '../../tools/workspace/workspaces.js';

const defaults = pantheonConfigSchema.parse({});

async function workspaceWithMeta(ws: Workspaces, name: string): Promise<void> {
  await mkdir(join(ws.dir(name), '.git'), { recursive: true });
  await ws.saveMeta(name, { owner: 'acme', repo: 'api', issue: 1, branch: 'pantheon/apollo/1-x', defaultBranch: 'main', cloneUrl: 'http://127.0.0.1:1/acme/api.git' });
}

test('sandbox.backend none: a warning at start, and every run_workspace_command asks an approver even where the policy allows writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-none-'));
  try {
    const resolved = await resolveSandbox({ ...defaults.sandbox, backend: 'none' }, { dataDir: dir });
    assert.equal(resolved.sandbox?.backend, 'none');
    assert.match(resolved.warnings.join('\n'), /NOT contained.*waits for an approver/);
    const ws = new Workspaces(dir, 'apollo', { resolved, network: 'egress', quotaBytes: 1 << 30 });
    const tool = runCommandTool(ws);
    assert.equal(tool.alwaysAsk, true);
    assert.equal(decide(tool, defaults.policy), 'ask');
    assert.equal(decide(tool, { ...defaults.policy, risk: { ...defaults.policy.risk, write: 'allow' }, tools: { run_workspace_command: 'allow' } }), 'ask');
    assert.match(JSON.stringify(tool.describeCall?.({ workspace: 'acme-api-1', command: 'npm test' })), /unsandboxed/);
    // Once approved it runs, with the clean environment.
    await workspaceWithMeta(ws, 'acme-api-1');
    process.env.PANTHEON_TEST_SECRET_NONE = 'never-in-output';
    const out = await tool.run({ workspace: 'acme-api-1', command: 'echo ran; env' }, { id: 't1', threadId: 'local:x', platform: 'local', persona: 'apollo', runId: 'r' });
    assert.match(out, /ran/);
    assert.doesNotMatch(out, /never-in-output/);
  } finally {
    delete process.env.PANTHEON_TEST_SECRET_NONE;
    await rm(dir, { recursive: true, force: true });
  }
});

test('with the sandbox on (the default), run_workspace_command follows the policy like any write', async () => {
  const resolved = { sandbox: { backend: 'bubblewrap' } as never, warnings: [] };
  const tool = runCommandTool(new Workspaces('/nonexistent', 'apollo', { resolved, network: 'egress', quotaBytes: 1 }));
  assert.equal(tool.alwaysAsk, false);
  assert.equal(decide(tool, defaults.policy), 'allow');
});

test('no usable backend: workspace commands are refused with what to install, and nothing runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-nosbx-'));
  try {
    // A host with none of the sandbox's programs (the default backend, auto).
    const resolved = await resolveSandbox(defaults.sandbox, { dataDir: dir, which: () => undefined });
    assert.equal(resolved.sandbox, undefined);
    assert.ok(resolved.problem instanceof SandboxUnavailableError);
    assert.match(
      resolved.problem!.message,
      /Workspace commands are disabled: no usable sandbox: bubblewrap \(bwrap\) is not installed: install bubblewrap and slirp4netns \(Debian\/Ubuntu: apt-get install bubblewrap slirp4netns iproute2.*\)\. Or set sandbox\.backend: none/,
    );
    const podman = await resolveSandbox({ ...defaults.sandbox, backend: 'podman' }, { dataDir: dir, which: () => undefined });
    assert.match(podman.problem!.message, /sandbox\.backend is podman, but the podman command is not installed/);
    const ws = new Workspaces(dir, 'apollo', { resolved, network: 'egress', quotaBytes: 1 << 30 });
    await workspaceWithMeta(ws, 'acme-api-1');
    const marker = join(dir, 'ran');
    await assert.rejects(
      runCommandTool(ws).run({ workspace: 'acme-api-1', command: `touch ${marker}` }, { id: 't2', threadId: 'local:x', platform: 'local', persona: 'apollo', runId: 'r' }),
      /Workspace commands are disabled/,
    );
    assert.equal(
      await stat(marker).then(
        () => true,
        () => false,
      ),
      false,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a workspace already holding more files than its quota refuses the next command', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-quota-files-'));
  try {
    const resolved = await resolveSandbox({ ...defaults.sandbox, backend: 'none' }, { dataDir: dir });
    const ws = new Workspaces(dir, 'apollo', { resolved, network: 'none', quotaBytes: 1 << 30, quotaFiles: 50 });
    await workspaceWithMeta(ws, 'acme-api-1');
    for (let i = 0; i < 60; i++) await writeFile(join(ws.dir('acme-api-1'), `f${i}`), '');
    await assert.rejects(
      runCommandTool(ws).run({ workspace: 'acme-api-1', command: 'echo hi' }, { id: 't4', threadId: 'local:x', platform: 'local', persona: 'apollo', runId: 'r' }),
      /files and directories, over their quota of 50 \(workspaces\.quotaFiles\)/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a workspace already over its quota refuses the next command, saying what to do', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-quota-'));
  try {
    const resolved = await resolveSandbox({ ...defaults.sandbox, backend: 'none' }, { dataDir: dir });
    const ws = new Workspaces(dir, 'apollo', { resolved, network: 'none', quotaBytes: 1024 * 1024 });
    await workspaceWithMeta(ws, 'acme-api-1');
    await writeFile(join(ws.dir('acme-api-1'), 'big'), Buffer.alloc(3 * 1024 * 1024, 1));
    await assert.rejects(
      runCommandTool(ws).run({ workspace: 'acme-api-1', command: 'echo hi' }, { id: 't3', threadId: 'local:x', platform: 'local', persona: 'apollo', runId: 'r' }),
      /over their quota of 1 MB \(workspaces\.quotaMb\)/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sandbox.env reaches every command, beside the clean environment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-env-'));
  try {
    const resolved = await resolveSandbox({ ...defaults.sandbox, backend: 'none' }, { dataDir: dir });
    const ws = new Workspaces(dir, 'apollo', { resolved, network: 'none', quotaBytes: 1 << 30, env: { NPM_CONFIG_REGISTRY: 'https://npm.example.internal/' } });
    await workspaceWithMeta(ws, 'acme-api-1');
    const out = await runCommandTool(ws).run({ workspace: 'acme-api-1', command: 'env' }, { id: 't5', threadId: 'local:x', platform: 'local', persona: 'apollo', runId: 'r' });
    assert.match(out, /NPM_CONFIG_REGISTRY=https:\/\/npm\.example\.internal\//);
    assert.match(out, /CI=1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
