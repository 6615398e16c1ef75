import { z } from 'zod';
import { text } from '../../core/config/coerce.js';
import type { PlatformDescriptor } from '../../core/config/platforms.js';
import type { PlatformModule } from '../../core/modules/types.js';

/**
 * The local chat, embedded in Pantheon (`/api/chat/...` and the console): always on. A person is
 * known there by `humans[].local` (or else their registry id).
 */
const localPlatform = {
  name: 'local',
  threadPrefix: 'local',
  section: z.strictObject({}),
  humanId: text(),
  orchestratorChat: true,
} as const satisfies PlatformDescriptor;

declare module '../../core/config/platforms.js' {
  interface Platforms {
    local: typeof localPlatform;
  }
}

export const local: PlatformModule = {
  platform: localPlatform,
  enabled: () => true,
  alwaysOn: true,
  load: async () => (await import('./module.js')).localChatModule,
};
