import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { useLoad } from '../load.js';
import { href } from '../router.js';
import type { Memory } from '../types.js';
import { Badge, Empty, Failure, Loading, Time } from '../ui/bits.js';
import { Ref } from '../ui/refs.js';

interface MemoryStats {
  embedder: { name?: string; model?: string; dimension?: number } | null;
  mismatch: boolean;
  counts: { total: number; archived: number; byScope: Record<string, number>; byKind: Record<string, number> };
}

export function MemoryView({ id }: { id: string | undefined }) {
  return id ? <OneMemory id={id} /> : <MemorySearch />;
}

function MemorySearch() {
  const [text, setText] = useState('');
  const path = `/api/memory${query({ q: text, limit: 50 })}`;
  const found = useLoad(path, () => api.get<{ hits?: { memory: Memory; score: number }[]; memories?: Memory[] }>(path));
  const stats = useLoad('memory-stats', () => api.get<MemoryStats>('/api/memory/stats'));
  const memories = found.data ? (found.data.hits?.map((h) => h.memory) ?? found.data.memories ?? []) : [];
  return (
    <>
      {stats.data && <Stats stats={stats.data} />}
      {stats.error && <Failure error={stats.error} retry={stats.reload} />}
      <form
        class="filters"
        aria-label="Search memories"
        onSubmit={(e) => {
          e.preventDefault();
          setText(String(new FormData(e.currentTarget as HTMLFormElement).get('q') ?? '').trim());
        }}
      >
        <label>
          Search memories
          <input name="q" type="search" defaultValue={text} placeholder="what the team knows about…" size={40} />
        </label>
        <button type="submit">Search</button>
      </form>
      {found.error && <Failure error={found.error} retry={found.reload} />}
      {found.loading && <Loading />}
      {found.data && memories.length === 0 && <Empty>{text ? 'No memory matches.' : 'No memories yet.'}</Empty>}
      <ul class="transcript">
        {memories.map((m) => (
          <li key={m.id}>
            <a href={href('memory', m.id)}>
              <Badge tone="info">{m.kind}</Badge> <span class="mono">{m.scope}</span>
            </a>{' '}
            <Time at={m.createdAt} />
            <div class="text">{m.content}</div>
          </li>
        ))}
      </ul>
    </>
  );
}

function Stats({ stats }: { stats: MemoryStats }) {
  return (
    <section class="card" aria-label="Memory statistics">
      <dl>
        <dt>Memories</dt>
        <dd>
          {stats.counts.total} ({stats.counts.archived} archived)
        </dd>
        <dt>By scope</dt>
        <dd>
          {Object.entries(stats.counts.byScope)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ') || '—'}
        </dd>
        <dt>By kind</dt>
        <dd>
          {Object.entries(stats.counts.byKind)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ') || '—'}
        </dd>
        {stats.mismatch && (
          <>
            <dt>Embedder</dt>
            <dd>
              <Badge tone="bad">mismatch</Badge> run <code>pantheon memory reembed</code>
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function OneMemory({ id }: { id: string }) {
  const memory = useLoad(`memory:${id}`, () => api.get<{ memory: Memory }>(`/api/memory/${encodeURIComponent(id)}`));
  const [forgotten, setForgotten] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const forget = async () => {
    if (!confirm('Forget this memory? It is deleted for good.')) return;
    try {
      await api.del(`/api/memory/${encodeURIComponent(id)}`);
      setForgotten(id);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <p>
        <a href={href('memory')}>← Search</a>
      </p>
      {memory.error && <Failure error={memory.error} retry={memory.reload} />}
      {error && <Failure error={error} />}
      {forgotten && <p role="status">Forgotten.</p>}
      {memory.data && !forgotten && (
        <article class="card">
          <h2>
            <Badge tone="info">{memory.data.memory.kind}</Badge> <span class="mono">{memory.data.memory.scope}</span>
          </h2>
          <div class="text">{memory.data.memory.content}</div>
          <dl>
            <dt>Source</dt>
            <dd>
              <Ref value={memory.data.memory.source} />
            </dd>
            <dt>Author</dt>
            <dd>{memory.data.memory.author ?? '—'}</dd>
            <dt>Created</dt>
            <dd>
              <Time at={memory.data.memory.createdAt} />
            </dd>
            <dt>Used</dt>
            <dd>{memory.data.memory.accessCount ?? 0} times</dd>
          </dl>
          <div class="actions">
            <button type="button" class="danger" onClick={forget}>
              Forget
            </button>
          </div>
        </article>
      )}
    </>
  );
}
