import type { ModuleFactory, PantheonModule } from '../../cli/modules.js';
import { workspaceTools } from '../workspace/index.js';
import { githubTools } from './index.js';
import { githubClients } from './session.js';
import { TeamDirectory } from './team.js';

/**
 * Provides the `github` and `workspace` tool groups, for personas whose YAML grants them.
 * Absent (null) when no persona has a GitHub identity and no App is configured: nothing could act on GitHub then.
 * Each persona's tools use that persona's own token (or, without one, the `github.app`
 * installation, never another persona's token); logins come from the persona files and
 * `humans:` (so "assign it to jeff" finds jeff's GitHub login).
 */
export const githubToolsModule: ModuleFactory = (ctx): PantheonModule | null => {
  const personas = ctx.registry.list();
  const { github, humans } = ctx.loaded.config;
  if (!personas.some((p) => p.github?.token) && !github.app) return null;
  const logger = ctx.logger.child({ module: 'github-tools' });
  const deps = {
    apiUrl: github.apiUrl,
    throttle: github.throttle,
    app: github.app,
    team: new TeamDirectory(personas, humans),
    ledger: ctx.ledger,
    logger,
    dataDir: ctx.dataDir,
    clients: githubClients({ apiUrl: github.apiUrl, throttle: github.throttle, app: github.app, logger }),
  };
  return { name: 'github-tools', toolGroups: { github: githubTools(deps), workspace: workspaceTools(deps) } };
};
