import type { ModuleFactory } from './modules.js';
import { mattermostModule } from '../channels/mattermost/module.js';
import { slackModule } from '../channels/slack/module.js';
import { githubModule } from '../channels/github/module.js';
import { telegramModule } from '../channels/telegram/module.js';
import { discordModule } from '../channels/discord/module.js';
import { githubToolsModule } from '../tools/github/module.js';
import { infraModule } from '../tools/infra/module.js';

/**
 * Every optional part of Pantheon, in start order. Each factory returns null when its config is
 * absent, so an installation runs only what it configured.
 */
export const MODULES: ModuleFactory[] = [
  // one line per module: channels (mattermost, slack, discord, telegram), github, workspace, infra
  mattermostModule,
  slackModule,
  githubModule,
  telegramModule,
  discordModule,
  githubToolsModule,
  infraModule,
];
