import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { sendError } from '../core/http/errors.js';
import type { WorkLedger } from './ledger.js';
import type { WorkItem } from './types.js';
import { usageReport } from './usage.js';

const name = z.string().trim().min(1).max(256);

/** `GET /api/work` query: `all=1` includes done and merged items. */
const WorkQueryString = z.object({
  owner: name.optional(),
  thread: name.optional(),
  all: z.enum(['1', 'true', '0', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const UsageQueryString = z.object({ days: z.coerce.number().int().min(1).max(366).optional() });

/**
 * `GET /api/work?owner=&thread=&all=1&limit=` answers `{ "items": [...] }`, most recently
 * active first; `GET /api/work/:id` answers `{ "item", "events" }` or a 404 in the usual
 * error shape; `GET /api/usage?days=1` answers the model usage (calls, tokens, dollars) per
 * persona and per thread since 00:00 UTC (`days` days back, default today). Under /api, so the
 * console token protects them.
 */
export function registerWorkRoutes(app: FastifyInstance, opts: { ledger: WorkLedger; pool: pg.Pool; githubWebUrl?: string }): void {
  const { ledger } = opts;
  const withLinks = (item: WorkItem) => ({ ...item, links: workItemLinks(item, opts.githubWebUrl ?? 'https://github.com') });

  app.get('/api/usage', async (req, reply) => {
    const parsed = UsageQueryString.safeParse(req.query ?? {});
    if (!parsed.success) return sendError(req, reply, 400, 'bad_request', `days: ${parsed.error.issues[0]!.message}`);
    return usageReport(opts.pool, { days: parsed.data.days });
  });

  app.get('/api/work', async (req, reply) => {
    const parsed = WorkQueryString.safeParse(req.query ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendError(req, reply, 400, 'bad_request', `${issue.path.join('.') || 'query'}: ${issue.message}`);
    }
    const q = parsed.data;
    const items = await ledger.list({ owner: q.owner, thread: q.thread, includeFinished: q.all === '1' || q.all === 'true', limit: q.limit });
    return { items: items.map(withLinks) };
  });

  app.get<{ Params: { id: string } }>('/api/work/:id', async (req, reply) => {
    const item = await ledger.get(req.params.id);
    if (!item) return sendError(req, reply, 404, 'not_found', `no work item ${req.params.id}`);
    return { item: withLinks(item), events: await ledger.events(item.id) };
  });
}

/** Where a work item lives: its issue or PR on GitHub (`gh:owner/repo#12`), and the conversation it was asked in. */
export interface WorkItemLink {
  kind: 'github' | 'conversation';
  label: string;
  url?: string;
  conversation?: string;
}

function workItemLinks(item: WorkItem, githubWebUrl: string): WorkItemLink[] {
  const links: WorkItemLink[] = [];
  const gh = item.externalRef ? /^gh:([\w.-]+\/[\w.-]+)#(\d+)$/.exec(item.externalRef) : null;
  if (gh) {
    // GitHub redirects /issues/N to /pull/N for a pull request.
    const path = item.kind === 'pull_request' ? 'pull' : 'issues';
    links.push({ kind: 'github', label: `${gh[1]}#${gh[2]}`, url: `${githubWebUrl.replace(/\/+$/, '')}/${gh[1]}/${path}/${gh[2]}` });
  }
  if (item.originThread) links.push({ kind: 'conversation', label: item.originThread, conversation: item.originThread });
  return links;
}
