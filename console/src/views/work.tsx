import { api } from '../api.js';
import { useLoad } from '../load.js';
import { href } from '../router.js';
import type { WorkItem, WorkItemEvent } from '../types.js';
import { Badge, Empty, Failure, Json, Loading, Time } from '../ui/bits.js';
import { WorkLinks } from '../ui/refs.js';

/** The order the ledger's states are shown in: what needs attention first. */
const STATE_ORDER = ['blocked', 'changes_requested', 'requested', 'in_progress', 'in_review', 'approved', 'merged', 'done'];

export function WorkView({ id }: { id: string | undefined }) {
  return id ? <WorkItemHistory id={id} /> : <Ledger />;
}

function Ledger() {
  const work = useLoad('work', () => api.get<{ items: WorkItem[] }>('/api/work?all=1&limit=300'));
  if (work.error) return <Failure error={work.error} retry={work.reload} />;
  if (!work.data) return <Loading />;
  const byState = new Map<string, WorkItem[]>();
  for (const item of work.data.items) byState.set(item.state, [...(byState.get(item.state) ?? []), item]);
  const states = [...byState.keys()].sort((a, b) => rank(a) - rank(b));
  if (states.length === 0) return <Empty>No work in the ledger yet.</Empty>;
  return (
    <>
      {states.map((state) => (
        <section key={state} aria-labelledby={`state-${state}`}>
          <h2 id={`state-${state}`}>
            {state.replace(/_/g, ' ')} <span class="muted">({byState.get(state)!.length})</span>
          </h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Item</th>
                  <th scope="col">Title</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Where</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {byState.get(state)!.map((item) => (
                  <tr key={item.id}>
                    <td>
                      <a href={href('work', item.id)}>{item.id}</a>
                    </td>
                    <td>{item.title}</td>
                    <td>{item.kind.replace(/_/g, ' ')}</td>
                    <td>{item.owner ?? <span class="muted">—</span>}</td>
                    <td>
                      <WorkLinks item={item} />
                    </td>
                    <td>
                      <Time at={item.updatedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </>
  );
}

function rank(state: string): number {
  const i = STATE_ORDER.indexOf(state);
  return i < 0 ? STATE_ORDER.length : i;
}

function WorkItemHistory({ id }: { id: string }) {
  const item = useLoad(`work:${id}`, () => api.get<{ item: WorkItem; events: WorkItemEvent[] }>(`/api/work/${encodeURIComponent(id)}`));
  return (
    <>
      <p>
        <a href={href('work')}>← All work</a>
      </p>
      {item.error && <Failure error={item.error} retry={item.reload} />}
      {!item.data && !item.error && <Loading />}
      {item.data && (
        <>
          <h2>
            {item.data.item.id}: {item.data.item.title} <Badge tone="info">{item.data.item.state.replace(/_/g, ' ')}</Badge>
          </h2>
          <div class="card">
            <dl>
              <dt>Kind</dt>
              <dd>{item.data.item.kind.replace(/_/g, ' ')}</dd>
              <dt>Owner</dt>
              <dd>{item.data.item.owner ?? '—'}</dd>
              <dt>Reviewers</dt>
              <dd>{item.data.item.reviewers.join(', ') || '—'}</dd>
              <dt>Asked by</dt>
              <dd>{item.data.item.requestedBy ?? '—'}</dd>
              <dt>Links</dt>
              <dd>
                <WorkLinks item={item.data.item} />
              </dd>
              <dt>Created</dt>
              <dd>
                <Time at={item.data.item.createdAt} />
              </dd>
            </dl>
          </div>
          <h2>History</h2>
          <ol class="transcript">
            {item.data.events.map((e) => (
              <li key={e.id}>
                <Time at={e.at} /> <span class="who">{e.actor}</span>
                <Badge>{e.kind.replace(/_/g, ' ')}</Badge>
                {Object.keys(e.detail).length > 0 && <Json value={e.detail} />}
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}
