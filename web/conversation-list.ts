import type pg from 'pg';

/** A conversation in the console's list (docs/api.md). */
export interface ConversationSummary {
  id: string;
  platform: string;
  title: string;
  lastActivityAt: string;
  lastMessage: { author: string | null; role: string; text: string } | null;
  messages: number;
  pendingApprovals: number;
  personas: string[];
  canPost: boolean;
}

/**
 * Every conversation on every platform, newest activity first: the local chat's transcript, and
 * for other platforms what came in (`inbound_messages`) and what the team posted (`outbox`).
 * `only` restricts the answer to one thread (the detail view's header).
 */
export async function listConversations(pool: pg.Pool, opts: { limit: number; platform?: string; only?: string }): Promise<ConversationSummary[]> {
  const { rows } = await pool.query<{ thread: string; last_at: Date; n: string }>(
    `WITH activity AS (
       SELECT 'local:' || conversation AS thread, max(created_at) AS last_at, count(*) AS n FROM chat_messages GROUP BY conversation
       UNION ALL
       SELECT conversation, max(received_at), count(*) FROM inbound_messages WHERE platform <> 'local' AND conversation IS NOT NULL GROUP BY conversation
       UNION ALL
       SELECT conversation, max(created_at), count(*) FROM outbox WHERE platform <> 'local' AND conversation IS NOT NULL AND NOT (payload ? 'replaces') GROUP BY conversation
     )
     SELECT thread, max(last_at) AS last_at, sum(n)::bigint AS n FROM activity
      WHERE ($2::text IS NULL OR split_part(thread, ':', 1) = $2) AND ($3::text IS NULL OR thread = $3)
      GROUP BY thread ORDER BY last_at DESC, thread LIMIT $1`,
    [opts.limit, opts.platform ?? null, opts.only ?? null],
  );
  if (!rows.length) return [];
  const threads = rows.map((r) => r.thread);
  const localNames = threads.filter((t) => t.startsWith('local:')).map((t) => t.slice(6));
  const [localLast, otherLast, pending, personas] = await Promise.all([
    pool.query<{ thread: string; author: string | null; role: string; text: string | null }>(
      `SELECT DISTINCT ON (conversation) 'local:' || conversation AS thread, author, role, text FROM chat_messages
        WHERE conversation = ANY($1::text[]) ORDER BY conversation, seq DESC`,
      [localNames],
    ),
    pool.query<{ thread: string; author: string | null; role: string; text: string | null; at: Date }>(
      `SELECT DISTINCT ON (thread) thread, author, role, text, at FROM (
         SELECT conversation AS thread, coalesce(payload -> 'author' ->> 'name', author) AS author, 'user' AS role, text, received_at AS at
           FROM inbound_messages WHERE conversation = ANY($1::text[]) AND platform <> 'local'
         UNION ALL
         SELECT conversation, persona, coalesce(payload ->> 'role', 'agent'), payload ->> 'text', created_at
           FROM outbox WHERE conversation = ANY($1::text[]) AND platform <> 'local' AND NOT (payload ? 'replaces')
       ) m ORDER BY thread, at DESC`,
      [threads],
    ),
    pool.query<{ thread: string; n: number }>(`SELECT thread, count(*)::int AS n FROM approvals WHERE thread = ANY($1::text[]) AND status = 'pending' AND expires_at > now() GROUP BY thread`, [
      threads,
    ]),
    pool.query<{ thread: string; personas: string[] }>(
      `SELECT conversation AS thread, array_agg(DISTINCT persona ORDER BY persona) AS personas FROM runs
        WHERE conversation = ANY($1::text[]) AND persona IS NOT NULL GROUP BY conversation`,
      [threads],
    ),
  ]);
  const last = new Map([...otherLast.rows, ...localLast.rows].map((r) => [r.thread, { author: r.author, role: r.role, text: r.text ?? '' }]));
  const pendingBy = new Map(pending.rows.map((r) => [r.thread, r.n]));
  const personasBy = new Map(personas.rows.map((r) => [r.thread, r.personas]));
  return rows.map((r) => {
    const platform = r.thread.split(':')[0]!;
    return {
      id: r.thread,
      platform,
      title: r.thread.slice(platform.length + 1),
      lastActivityAt: new Date(r.last_at).toISOString(),
      lastMessage: last.get(r.thread) ?? null,
      messages: Number(r.n),
      pendingApprovals: pendingBy.get(r.thread) ?? 0,
      personas: personasBy.get(r.thread) ?? [],
      canPost: platform === 'local',
    };
  });
}
