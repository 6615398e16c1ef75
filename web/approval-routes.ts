import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { APPROVAL_ID_PATTERN, type Human, type HumanDirectory } from '../core/chat/approvals.js';
import { sendError } from '../core/http/errors.js';
import { openEventStream } from '../core/http/event-stream.js';
import { sessionOf, type SessionVerifier } from '../core/http/principal.js';
import type { ConsoleDecision } from '../orchestrator/approvals/desk.js';
import type { ListedApproval } from '../orchestrator/approvals/store.js';
import { credentialOf, StreamSlots } from '../platforms/local/stream-slots.js';
import { ApprovalsWatch } from './approvals-watch.js';
import { endWithSession } from './event-stream.js';
import { publicApproval, type PublicApproval } from './timeline.js';

export interface ApprovalRoutesOptions {
  list(q: { pending: boolean; limit: number }): Promise<ListedApproval[]>;
  /** The table's latest change and how many wait: the live stream's cheap look. */
  version(): Promise<{ version: string; pending: number }>;
  decide(command: { action: 'approve' | 'deny'; id: string; note?: string }, human: Human | undefined): Promise<ConsoleDecision>;
  humans: Pick<HumanDirectory, 'identify'>;
  human(id: string): Human | undefined;
  sessions: SessionVerifier;
  maxStreamsPerCredential: number;
  maxStreams: number;
  pollIntervalMs?: number;
}

/** An approval in `GET /api/approvals`: with who wrote the message whose run asked. */
export interface ListedPublicApproval extends PublicApproval {
  askedBy: string | null;
}

const ListQuery = z.object({ recent: z.coerce.number().int().min(0).max(500).default(50) });
const DenyBody = z.object({ reason: z.string().trim().max(2000).optional() });

/**
 * `GET /api/approvals` (pending, with who asked, and recent decisions), `POST
 * /api/approvals/:id/approve` and `/deny` (a signed-in approver only; attributed to them), and
 * `GET /api/approvals/stream`: an event `changed` (`{ pending }`) whenever a request is made,
 * decided or expires anywhere, so a console shows it at once and reads the list again.
 */
export function registerApprovalRoutes(app: FastifyInstance, opts: ApprovalRoutesOptions): void {
  const shown = (a: ListedApproval): ListedPublicApproval => ({
    ...publicApproval(a),
    askedBy: a.askedBy ? (opts.humans.identify(a.platform, a.askedBy.id)?.id ?? a.askedBy.name) : null,
  });

  app.get('/api/approvals', async (req, reply) => {
    const q = ListQuery.safeParse(req.query ?? {});
    if (!q.success) return sendError(req, reply, 400, 'bad_request', `recent: ${q.error.issues[0]!.message}`);
    const [pending, recent] = await Promise.all([opts.list({ pending: true, limit: 500 }), q.data.recent ? opts.list({ pending: false, limit: q.data.recent }) : []]);
    return { canDecide: sessionOf(req)?.approver === true, pending: pending.map(shown), recent: recent.map(shown) };
  });

  const watch = new ApprovalsWatch(opts.version, { pollIntervalMs: opts.pollIntervalMs ?? 1000, onError: (err) => app.log.warn({ err }, 'reading approvals for the live stream failed') });
  const slots = new StreamSlots(opts.maxStreamsPerCredential, opts.maxStreams);
  app.get('/api/approvals/stream', async (req, reply) => {
    const slot = slots.take(credentialOf(req));
    if ('refused' in slot) return sendError(req, reply.header('retry-after', '5'), 429, 'too_many_streams', 'too many open streams; close one and retry');
    const stream = openEventStream(req, reply);
    stream.onClose(slot.release);
    endWithSession(req, stream, opts.sessions);
    try {
      stream.onClose(await watch.subscribe((pending) => stream.send('changed', { pending })));
    } catch (err) {
      stream.close();
      throw err;
    }
  });

  const decide = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, action: 'approve' | 'deny') => {
    const session = sessionOf(req);
    if (!session) return sendError(req, reply, 403, 'needs_session', 'approvals are decided by a signed-in approver (humans: with approver: true); sign in with a login link');
    if (!APPROVAL_ID_PATTERN.test(req.params.id)) return sendError(req, reply, 404, 'not_found', `no approval request ${req.params.id}`);
    let note: string | undefined;
    if (action === 'deny') {
      const body = DenyBody.safeParse(req.body ?? {});
      if (!body.success) return sendError(req, reply, 400, 'bad_request', `reason: ${body.error.issues[0]!.message}`);
      note = body.data.reason || undefined;
    }
    const result = await opts.decide({ action, id: req.params.id.toLowerCase(), note }, opts.human(session.humanId));
    if (result.ok) return { approval: publicApproval(result.approval) };
    if (result.reason === 'unknown') return sendError(req, reply, 404, 'not_found', `no approval request ${req.params.id}`);
    if (result.reason === 'not_approver') return sendError(req, reply, 403, 'not_approver', `${session.humanId} is not an approver (approver: true in humans:), so ${req.params.id} stays open`);
    return sendError(req, reply, 409, 'conflict', result.message ?? `${req.params.id} was not changed`);
  };

  app.post<{ Params: { id: string } }>('/api/approvals/:id/approve', (req, reply) => decide(req, reply, 'approve'));
  app.post<{ Params: { id: string } }>('/api/approvals/:id/deny', (req, reply) => decide(req, reply, 'deny'));
}
