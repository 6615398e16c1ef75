import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Approval } from '../types.js';
import { Badge, Json, Time } from './bits.js';
import { ThreadLink } from './refs.js';

const RISK_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info'> = { read: 'ok', write: 'info', destructive: 'bad', infra: 'warn' };
const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'muted'> = { pending: 'warn', approved: 'ok', denied: 'bad', expired: 'muted' };

/**
 * One approval request: who asked, the tool, its exact arguments, the risk; for an approver,
 * Approve and Deny (with a reason). Used in the Approvals view and inline in a conversation.
 */
export function ApprovalCard({ approval, canDecide, onDecided, showThread = true }: { approval: Approval; canDecide: boolean; onDecided?: (a: Approval) => void; showThread?: boolean }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const decide = async (verb: 'approve' | 'deny') => {
    setBusy(true);
    setError(null);
    try {
      const body = verb === 'deny' && reason.trim() ? { reason: reason.trim() } : {};
      const answer = await api.post<{ approval: Approval }>(`/api/approvals/${encodeURIComponent(approval.id)}/${verb}`, body);
      onDecided?.(answer.approval);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const pending = approval.status === 'pending';
  const labelId = `approval-${approval.id}`;
  return (
    <article class="card" aria-labelledby={labelId} data-approval={approval.id}>
      <h3 id={labelId}>
        <span class="mono">{approval.persona}</span> wants to run <span class="mono">{approval.tool}</span> <Badge tone={RISK_TONE[approval.risk] ?? 'warn'}>{approval.risk}</Badge>{' '}
        <Badge tone={STATUS_TONE[approval.status] ?? 'muted'}>{approval.status}</Badge>
      </h3>
      <dl>
        <dt>Request</dt>
        <dd class="mono">[{approval.id}]</dd>
        {approval.askedBy !== undefined && (
          <>
            <dt>Asked by</dt>
            <dd>{approval.askedBy ?? <span class="muted">no one (a scheduled or GitHub run)</span>}</dd>
          </>
        )}
        {showThread && (
          <>
            <dt>Where</dt>
            <dd>
              <ThreadLink thread={approval.thread} />
            </dd>
          </>
        )}
        <dt>Why</dt>
        <dd>{approval.reason ?? <span class="muted">—</span>}</dd>
        <dt>Asked</dt>
        <dd>
          <Time at={approval.requestedAt} />
          {pending && approval.expiresAt && (
            <span class="muted">
              {' '}
              (expires <Time at={approval.expiresAt} />)
            </span>
          )}
        </dd>
        {!pending && (
          <>
            <dt>Decided</dt>
            <dd>
              {approval.decidedBy ? `${approval.status} by ${approval.decidedBy}` : approval.status} <Time at={approval.decidedAt} />
              {approval.decisionNote && <span>: {approval.decisionNote}</span>}
            </dd>
          </>
        )}
      </dl>
      <Json value={approval.args} />
      {pending && canDecide && (
        <div class="actions">
          <button type="button" class="primary" disabled={busy} onClick={() => decide('approve')}>
            Approve
          </button>
          <input aria-label={`Reason for denying ${approval.id}`} placeholder="Reason (optional)" value={reason} onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)} />
          <button type="button" class="danger" disabled={busy} onClick={() => decide('deny')}>
            Deny
          </button>
        </div>
      )}
      {pending && !canDecide && <p class="muted">Only approvers can decide this.</p>}
      {error && (
        <p class="failure" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}
