import { api, query } from '../api.js';
import { useLoad, usePoll } from '../load.js';
import { href } from '../router.js';
import type { Conversation } from '../types.js';
import { Badge, Empty, Failure, Loading, Time } from '../ui/bits.js';
import { ConversationLive } from './conversation.js';

export function ConversationsView({ id }: { id: string | undefined }) {
  const list = useLoad('conversations', () => api.get<{ conversations: Conversation[] }>(`/api/conversations${query({ limit: 200 })}`));
  usePoll(list.reload, 5000);
  return (
    <div class="split">
      <nav aria-label="Conversations">
        {list.error && <Failure error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading />}
        {list.data && list.data.conversations.length === 0 && <Empty>No conversations yet.</Empty>}
        {list.data && list.data.conversations.length > 0 && (
          <ul class="list">
            {list.data.conversations.map((c) => (
              <li key={c.id}>
                <a href={href('conversations', c.id)} aria-current={c.id === id ? 'true' : undefined}>
                  <Badge>{c.platform}</Badge> <strong>{c.title}</strong> {c.pendingApprovals > 0 && <Badge tone="warn">{c.pendingApprovals} waiting</Badge>}
                  <span class="sub">
                    <Time at={c.lastActivityAt} /> {c.lastMessage ? `${c.lastMessage.author}: ${c.lastMessage.text}` : ''}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        )}
      </nav>
      <section aria-label="Conversation">{id ? <ConversationLive key={id} id={id} /> : <Empty>Choose a conversation.</Empty>}</section>
    </div>
  );
}
