import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useEventStream } from '../live.js';
import { useLoad } from '../load.js';
import { useSession } from '../session.js';
import type { Conversation, TimelineEntry } from '../types.js';
import { ApprovalCard } from '../ui/approval-card.js';
import { Badge, Failure, Json, Loading, Time } from '../ui/bits.js';
import { Ref } from '../ui/refs.js';
import { outcomeTone } from './audit.js';

interface ConversationAnswer {
  conversation: Conversation;
  timeline: TimelineEntry[];
}

const KINDS = ['message', 'handoff', 'tool_call', 'approval'] as const;

/** One conversation, kept live over its event stream; entries are replaced by id when they change. */
export function ConversationLive({ id }: { id: string }) {
  const path = `/api/conversations/${encodeURIComponent(id)}`;
  const loaded = useLoad(path, () => api.get<ConversationAnswer>(path));
  const upsert = (entry: unknown) =>
    loaded.set((old) => {
      if (!old) return old;
      const e = entry as TimelineEntry;
      const i = old.timeline.findIndex((x) => x.id === e.id);
      const timeline = i >= 0 ? old.timeline.map((x, j) => (j === i ? e : x)) : [...old.timeline, e];
      return { ...old, timeline };
    });
  const live = useEventStream(`${path}/stream`, Object.fromEntries(KINDS.map((k) => [k, upsert])), loaded.reload);
  const session = useSession();
  if (loaded.error && !loaded.data) return <Failure error={loaded.error} retry={loaded.reload} />;
  if (!loaded.data) return <Loading />;
  const { conversation, timeline } = loaded.data;
  return (
    <>
      <h2>
        <span class="mono">{conversation.id}</span>{' '}
        <span class="live muted" role="status">
          {live === 'live' ? '● live' : live === 'connecting' ? 'connecting…' : 'reconnecting…'}
        </span>
      </h2>
      <ol class="transcript" aria-label={`Timeline of ${conversation.id}`}>
        {timeline.map((e) => (
          <Entry key={e.id} entry={e} canDecide={session.human.approver} />
        ))}
      </ol>
      {conversation.canPost ? <PostBox id={id} /> : <p class="muted">The console can post only into local conversations; answer this one on {conversation.platform}.</p>}
    </>
  );
}

function Entry({ entry, canDecide }: { entry: TimelineEntry; canDecide: boolean }) {
  switch (entry.kind) {
    case 'message':
      return (
        <li class={entry.role}>
          <span class="who">{entry.persona ?? entry.author ?? entry.role}</span>
          <Time at={entry.at} />
          <div class="text">{entry.text}</div>
        </li>
      );
    case 'handoff':
      return (
        <li class="handoff">
          <Badge tone="info">handoff</Badge> <span class="who">{entry.from}</span>→ <span class="who">{entry.to}</span>
          <Time at={entry.at} /> {entry.workItem && <Ref value={entry.workItem} />}
          <div class="text">{entry.message}</div>
        </li>
      );
    case 'tool_call':
      return (
        <li class="tool">
          <details class="tool">
            <summary>
              <span class="who">{entry.persona ?? 'someone'}</span> ran <span class="mono">{entry.tool ?? 'a tool'}</span>{' '}
              <Badge tone={outcomeTone(entry.outcome)}>{entry.outcome.replace(/_/g, ' ')}</Badge> {entry.durationMs !== null && <span class="muted">{entry.durationMs} ms</span>} <Time at={entry.at} />
            </summary>
            <h4>Arguments</h4>
            <Json value={entry.args} />
            {entry.detail && <p class="muted">{entry.detail}</p>}
            <h4>Result</h4>
            {entry.result === null ? <p class="muted">not known</p> : <Json value={entry.result} />}
          </details>
        </li>
      );
    case 'approval':
      return (
        <li class="approval">
          <ApprovalCard approval={entry.approval} canDecide={canDecide} showThread={false} />
        </li>
      );
  }
}

function PostBox({ id }: { id: string }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/conversations/${encodeURIComponent(id)}/messages`, { text });
      setText('');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="post" onSubmit={submit}>
      <label class="visually-hidden" for="post-text">
        Message
      </label>
      <textarea
        id="post-text"
        value={text}
        placeholder="Write to the team, e.g. @athena what's in flight?"
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e);
        }}
      />
      <button type="submit" disabled={busy || !text.trim()}>
        Send
      </button>
      {error && (
        <p class="failure" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
