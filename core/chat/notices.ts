import type { NoticeKind } from '../config/notify.js';
import type { ApprovalCard } from './types.js';

export type { NoticeKind };

/**
 * A notice to people, as a contract: approval requests, failed jobs and runs, finished work
 * ("your PR is ready"), mentions. Everything that reaches a person outside the thread they are
 * in goes through the one notifier (orchestrator/notify/), which honours each person's
 * `humans[].notify`: where to reach them, quiet hours (held, then one digest), which kinds.
 */
export interface Notice {
  kind: NoticeKind;
  /** Sent at most once per key and person (a retried or replayed notice is not sent twice). */
  key: string;
  text: string;
  /**
   * Who: human ids of `humans:`, or platform identities (a work item's requester) the registry
   * knows; `everyone`: every human whose preferences ask for this kind.
   */
  to: 'everyone' | Array<string | { platform: string; userId: string }>;
  /** The thread the notice is about: its platform is where people without `via` are reached, and a DM is never that thread. */
  thread?: string;
  card?: ApprovalCard;
}

export interface NoticeResult {
  /** Human ids sent to now. */
  sent: string[];
  /** Human ids in quiet hours: held for their digest. */
  held: string[];
}

/** The notifier's port, for modules (infra jobs, GitHub) below the orchestrator. */
export interface NotifierPort {
  notify(notice: Notice): Promise<NoticeResult>;
}
