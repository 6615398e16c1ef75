/**
 * A persona's own `sandbox.network` wins over the team's: with the team on egress, a persona set to
 * `none` runs its commands with no network at all, while another still has the outside world.
 * Runs in the real sandbox, built as `pantheon start` builds it (the github-tools module).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModuleContext } from '../../core/modules/types.js';
import { pantheonConfigSchema } from '../../core/config/schema.js';
import { createLogger } from '../../core/log.js';
import { PersonaRegistry } from '../../personas/registry.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { githubToolsModule } from '../../tools/modules/github.js';
import { Workspaces } from '../../tools/workspace/workspaces.js';
import { tempDir } from '../support/pantheon-process.js';
import { testSandbox } from '../support/sandbox.js';

const root = await tempDir('pantheon-persona-net-');
const dataDir = join(root.path, 'data');
const { skip } = await testSandbox(dataDir);

test('a persona with sandbox.network none has no network where the team has egress', { skip }, async (t) => {
  t.after(() => root.remove());
  const persona = (id: string, extra: Partial<Persona> = {}) =>
    ({ id, name: id, role: 'developer', description: id, tools: ['github', 'workspace'], github: { login: `${id}-bot`, token: `ghp_${id}_0123456789abcdef` }, ...extra }) as unknown as Persona;
  const config = pantheonConfigSchema.parse({ sandbox: { network: 'egress' }, github: { apiUrl: 'http://127.0.0.1:1', throttle: false } });
  const ctx = {
    registry: new PersonaRegistry([persona('apollo'), persona('hermes', { sandbox: { network: 'none' } })]),
    loaded: { config },
    logger: createLogger({ level: 'silent' }),
    dataDir,
  } as unknown as ModuleContext;
  const mod = await githubToolsModule(ctx);
  const links: Record<string, string> = {};
  for (const id of ['apollo', 'hermes']) {
    const ws = new Workspaces(dataDir, id);
    await mkdir(join(ws.dir('acme-api-1'), '.git'), { recursive: true });
    await ws.saveMeta('acme-api-1', { owner: 'acme', repo: 'api', issue: 1, branch: `pantheon/${id}/1-x`, defaultBranch: 'main', cloneUrl: 'http://127.0.0.1:1/acme/api.git' });
    const tools = mod!.toolGroups!.workspace!({ persona: { id, name: id, role: 'developer' }, credentials: { chat: {} }, outbox: { send: async () => ({ queued: true }) } });
    const run = tools.find((x) => x.name === 'run_workspace_command')!;
    links[id] = await run.run({ workspace: 'acme-api-1', command: 'ip -o link; ip route' } as never, { id: `c-${id}`, threadId: 'local:t', platform: 'local', persona: id, runId: 'r' });
  }
  assert.match(links.apollo!, /tap0/, links.apollo);
  assert.match(links.apollo!, /default via/);
  assert.doesNotMatch(links.hermes!, /tap0|default via/, links.hermes);
  assert.match(links.hermes!, /\blo\b/);
});
