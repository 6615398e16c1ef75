import type { ModuleFactory } from './modules.js';

/**
 * Every optional part of Pantheon, in start order. Each factory returns null when its config is
 * absent, so an installation runs only what it configured.
 */
export const MODULES: ModuleFactory[] = [
  // one line per module: channels (mattermost, slack, discord, telegram), github, workspace, infra
];
