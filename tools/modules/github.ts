import type { ModuleFactory, PantheonModule } from '../../core/modules/types.js';
import { workspaceTools } from '../workspace/index.js';
import { githubTools } from '../github/index.js';
import { githubClientsFor } from '../../github/clients.js';
import { TeamDirectory } from '../github/team.js';
import type { Logger } from '../../core/log.js';
import { resolveSandbox } from '../sandbox/resolve.js';
import type { WorkspaceSandboxing } from '../workspace/sandboxed.js';
import { WorkLedger } from '../../ledger/index.js';

/**
 * Resolves the sandbox once, says at start which one contains commands (or why none can), and
 * gives each persona its network: its own `sandbox.network`, else the team's.
 */
async function workspaceSandboxing(ctx: Parameters<ModuleFactory>[0], logger: Logger): Promise<(persona: string) => WorkspaceSandboxing> {
  const { sandbox: config, workspaces } = ctx.loaded.config;
  const resolved = await resolveSandbox(config, { dataDir: ctx.dataDir });
  if (resolved.sandbox) logger.info({ sandbox: resolved.sandbox.backend }, `sandbox: ${resolved.sandbox.describe()}`);
  else logger.error({ sandbox: 'unavailable' }, resolved.problem?.message ?? 'no sandbox');
  for (const w of resolved.warnings) logger.warn({ sandbox: resolved.sandbox?.backend }, w);
  const networks = new Map(ctx.registry.list().map((p) => [p.id, p.sandbox?.network ?? config.network]));
  return (persona) => ({ resolved, network: networks.get(persona) ?? config.network, quotaBytes: workspaces.quotaMb * 1024 * 1024, quotaFiles: workspaces.quotaFiles, env: config.env });
}

/**
 * Provides the `github` and `workspace` tool groups, for personas whose YAML grants them.
 * Absent (null) when no persona has a GitHub identity and no App is configured: nothing could act on GitHub then.
 * Each persona's tools use that persona's own token (or, without one, the `github.app`
 * installation, never another persona's token); logins come from the persona files and
 * `humans:` (so "assign it to jeff" finds jeff's GitHub login).
 */
export const githubToolsModule: ModuleFactory = async (ctx): Promise<PantheonModule | null> => {
  const personas = ctx.registry.list();
  const { github, humans } = ctx.loaded.config;
  if (!personas.some((p) => p.github?.token) && !github.app) return null;
  const logger = ctx.logger.child({ module: 'github-tools' });
  const deps = {
    apiUrl: github.apiUrl,
    throttle: github.throttle,
    app: github.app,
    team: new TeamDirectory(personas, humans),
    ledger: new WorkLedger(ctx.pool),
    logger,
    dataDir: ctx.dataDir,
    // The GitHub platform's clients too: one octokit per token in the process.
    clients: githubClientsFor(github, logger),
  };
  const sandboxing = await workspaceSandboxing(ctx, logger);
  return { name: 'github-tools', toolGroups: { github: githubTools(deps), workspace: workspaceTools({ ...deps, sandboxing }) } };
};
