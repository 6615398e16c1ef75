import { registerPlatforms } from '../core/config/platforms.js';
import type { PlatformModule } from '../core/modules/types.js';
import { discord } from '../channels/discord/platform.js';
import { github } from '../channels/github/platform.js';
import { local } from '../channels/local/platform.js';
import { mattermost } from '../channels/mattermost/platform.js';
import { slack } from '../channels/slack/platform.js';
import { telegram } from '../channels/telegram/platform.js';

/**
 * Every chat platform Pantheon speaks, and the only list of them: adding one is a folder under
 * channels/ (its `platform.ts` descriptor and its `module.ts`) and a line here. Importing this
 * file registers them, so that pantheon.yaml and the persona files are checked against their
 * sections (core/config/platforms.ts). The order is the order of keys in configuration messages
 * ("allowed here: mattermost, slack, discord, telegram") and the start order of their modules.
 */
export const PLATFORMS: readonly PlatformModule[] = [local, mattermost, slack, discord, telegram, github];

registerPlatforms(PLATFORMS.map((p) => p.platform));
