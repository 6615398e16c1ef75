import { useEffect } from 'preact/hooks';
import { api } from '../api.js';
import { useEventStream } from '../live.js';
import { useLoad, usePoll } from '../load.js';
import type { Approval } from '../types.js';
import { ApprovalCard } from '../ui/approval-card.js';
import { Empty, Failure, Loading } from '../ui/bits.js';

interface ApprovalsAnswer {
  canDecide: boolean;
  pending: Approval[];
  recent: Approval[];
}

export function ApprovalsView() {
  const approvals = useLoad('approvals', () => api.get<ApprovalsAnswer>('/api/approvals?recent=50'));
  // A request made, decided or expired anywhere is told on the stream; the list is read again then
  // (and on each reconnection). The slow poll only covers a stream that cannot connect at all.
  const live = useEventStream('/api/approvals/stream', { changed: approvals.reload }, approvals.reload);
  // A stream that drops is asked about once: a session that ended answers 401 and the page goes to sign-in.
  useEffect(() => {
    if (live === 'reconnecting') approvals.reload();
  }, [live]);
  usePoll(approvals.reload, 30_000);
  if (approvals.error && !approvals.data) return <Failure error={approvals.error} retry={approvals.reload} />;
  if (!approvals.data) return <Loading />;
  const { canDecide, pending, recent } = approvals.data;
  return (
    <>
      <section aria-labelledby="pending-title">
        <h2 id="pending-title">Waiting for a decision ({pending.length})</h2>
        <div aria-live="polite">
          {pending.length === 0 ? (
            <Empty>Nothing waits for an approver.</Empty>
          ) : (
            <div class="cards">
              {pending.map((a) => (
                <ApprovalCard key={a.id} approval={a} canDecide={canDecide} onDecided={approvals.reload} />
              ))}
            </div>
          )}
        </div>
      </section>
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent decisions</h2>
        {recent.length === 0 ? (
          <Empty>No decisions yet.</Empty>
        ) : (
          <div class="cards">
            {recent.map((a) => (
              <ApprovalCard key={a.id} approval={a} canDecide={false} />
            ))}
          </div>
        )}
      </section>
    </>
  );
}
