import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sendError } from '../http/errors.js';
import { AUDIT_KINDS, MAX_AUDIT_LIMIT, type AuditLog } from './audit-log.js';
import { parseSince } from './since.js';

const name = z.string().trim().min(1).max(256);

/** `GET /api/audit` query: every filter optional; `since` is ISO or relative (2h, 7d). */
const AuditQueryString = z.object({
  persona: name.optional(),
  tool: name.optional(),
  thread: name.optional(),
  kind: z.enum(AUDIT_KINDS as [string, ...string[]]).optional(),
  outcome: name.optional(),
  approval: name.optional(),
  since: z.string().trim().min(1).optional(),
  until: z.string().trim().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_LIMIT).optional(),
});

/**
 * `GET /api/audit?persona=&tool=&thread=&kind=&outcome=&approval=&since=&until=&limit=` answers
 * `{ "entries": [...] }`, newest first (`since` and `until`: ISO or relative, 2h, 7d). Under /api, so the console token protects it.
 */
export function registerAuditRoutes(app: FastifyInstance, opts: { audit: AuditLog }): void {
  app.get('/api/audit', async (req, reply) => {
    const parsed = AuditQueryString.safeParse(req.query ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendError(req, reply, 400, 'bad_request', `${issue.path.join('.') || 'query'}: ${issue.message}`);
    }
    const q = parsed.data;
    let since: Date | undefined;
    let until: Date | undefined;
    try {
      if (q.since) since = parseSince(q.since);
    } catch (err) {
      return sendError(req, reply, 400, 'bad_request', `since: ${(err as Error).message}`);
    }
    try {
      if (q.until) until = parseSince(q.until);
    } catch (err) {
      return sendError(req, reply, 400, 'bad_request', `until: ${(err as Error).message}`);
    }
    const entries = await opts.audit.query({
      persona: q.persona,
      tool: q.tool,
      thread: q.thread,
      kind: q.kind as 'tool_call' | 'approval_decision' | undefined,
      outcome: q.outcome,
      approvalId: q.approval,
      since,
      until,
      limit: q.limit,
    });
    return { entries };
  });
}
