import { registerPlatforms } from '../core/config/platforms.js';
import type { PlatformModule } from '../core/modules/types.js';
import { discord } from '../platforms/discord/platform.js';
import { github } from '../platforms/github/platform.js';
import { local } from '../platforms/local/platform.js';
import { mattermost } from '../platforms/mattermost/platform.js';
import { slack } from '../platforms/slack/platform.js';
import { telegram } from '../platforms/telegram/platform.js';

/**
 * Every chat platform Pantheon speaks, and the only list of them: adding one is a folder under
 * platforms/ (its `platform.ts` descriptor and its `module.ts`) and a line here. Importing this
 * file registers them, so that pantheon.yaml and the persona files are checked against their
 * sections (core/config/platforms.ts). The order is the order of keys in configuration messages
 * ("allowed here: mattermost, slack, discord, telegram") and the start order of their modules.
 */
export const PLATFORMS: readonly PlatformModule[] = [local, mattermost, slack, discord, telegram, github];

registerPlatforms(PLATFORMS.map((p) => p.platform));
