import type { Human, HumanDirectory } from '../../core/chat/approvals.js';

export type { Human };

/** Platforms whose user ids the `humans:` registry records, one field each. */
const PLATFORM_FIELDS = ['mattermost', 'slack', 'discord', 'github', 'telegram'] as const;
type PlatformField = (typeof PLATFORM_FIELDS)[number];

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
   * else its registry `id`; on other platforms the platform's own field (GitHub logins are
   * compared case-insensitively, as GitHub does).
   */
  identify(channel: string, userId: string): Human | undefined {
    const platform = channel.split(':')[0]!;
    if (platform === 'local') {
      return this.humans.find((h) => h.local === userId) ?? this.humans.find((h) => h.id === userId);
    }
    if (!isPlatformField(platform)) return undefined;
    return this.humans.find((h) => {
      const known = h[platform];
      if (known === undefined || known === null) return false;
      return platform === 'github' ? String(known).toLowerCase() === userId.toLowerCase() : String(known) === userId;
    });
  }

  isApprover(channel: string, userId: string): boolean {
    return this.identify(channel, userId)?.approver === true;
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
    if (!isPlatformField(platform)) return undefined;
    const known = human[platform];
    return known === undefined || known === null || known === '' ? undefined : String(known);
  }
}

function isPlatformField(name: string): name is PlatformField {
  return (PLATFORM_FIELDS as readonly string[]).includes(name);
}
