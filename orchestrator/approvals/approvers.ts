import type { Human, HumanDirectory } from '../../core/chat/approvals.js';
import { registeredPlatforms, type PlatformDescriptor } from '../../core/config/platforms.js';

export type { Human };

/**
 * Who people are, from `humans:` in pantheon.yaml, and which of them may answer approval
 * requests. An identity the registry does not list is nobody: never an approver, whatever
 * name it claims.
 */
export class Approvers implements HumanDirectory {
  private readonly humans: readonly Human[];

  constructor(humans: readonly Human[]) {
    this.humans = humans;
  }

  /**
   * The human behind a platform user id. In the local chat a user is its `local` name, or
   * else its registry `id`; on other platforms the field the platform's descriptor contributes to
   * `humans:` (compared case-insensitively where the platform says so, as GitHub does for logins).
   */
  identify(platform: string, userId: string): Human | undefined {
    const name = platform.split(':')[0]!;
    if (name === 'local') {
      return this.humans.find((h) => h.local === userId) ?? this.humans.find((h) => h.id === userId);
    }
    const descriptor = humanIdPlatform(name);
    if (!descriptor) return undefined;
    return this.humans.find((h) => {
      const known = fieldOf(h, name);
      if (known === undefined) return false;
      return descriptor.userIdsIgnoreCase ? known.toLowerCase() === userId.toLowerCase() : known === userId;
    });
  }

  isApprover(platform: string, userId: string): boolean {
    return this.identify(platform, userId)?.approver === true;
  }

  /** Everyone who may approve. */
  list(): Human[] {
    return this.humans.filter((h) => h.approver);
  }

  /**
   * The user id that reaches `human` on a platform (what its adapter's `directThreadId` takes):
   * the platform's field in `humans:`. In the local chat it is the registry id, which names the
   * person's own conversation (`dm-<id>`) whatever name they type under.
   */
  addressOn(platform: string, human: Human): string | undefined {
    if (platform === 'local') return human.id;
    if (!humanIdPlatform(platform)) return undefined;
    const known = fieldOf(human, platform);
    return known === '' ? undefined : known;
  }
}

/** The registered platform whose user ids `humans:` records under `name`, if any. */
function humanIdPlatform(name: string): PlatformDescriptor | undefined {
  return registeredPlatforms().find((p) => p.name === name && p.humanId);
}

function fieldOf(human: Human, platform: string): string | undefined {
  const known = (human as unknown as Record<string, unknown>)[platform];
  return known === undefined || known === null ? undefined : String(known);
}
