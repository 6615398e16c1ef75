import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { useLoad } from '../load.js';
import type { AuditEntry } from '../types.js';
import { Badge, Empty, Failure, Json, Loading, Time } from '../ui/bits.js';
import { ThreadLink } from '../ui/refs.js';

interface Filters {
  persona: string;
  tool: string;
  since: string;
  kind: string;
}

const SINCE = [
  ['1h', 'the last hour'],
  ['24h', 'the last 24 hours'],
  ['7d', 'the last 7 days'],
  ['30d', 'the last 30 days'],
  ['', 'all time'],
] as const;

export function AuditView() {
  const [filters, setFilters] = useState<Filters>({ persona: '', tool: '', since: '24h', kind: '' });
  const path = `/api/audit${query({ ...filters, limit: 200 })}`;
  const audit = useLoad(path, () => api.get<{ entries: AuditEntry[] }>(path));
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFilters({ persona: String(form.get('persona') ?? '').trim(), tool: String(form.get('tool') ?? '').trim(), since: String(form.get('since') ?? ''), kind: String(form.get('kind') ?? '') });
  };
  return (
    <>
      <form class="filters" onSubmit={onSubmit} aria-label="Filter the audit log">
        <label>
          Persona
          <input name="persona" defaultValue={filters.persona} placeholder="any" />
        </label>
        <label>
          Tool
          <input name="tool" defaultValue={filters.tool} placeholder="any" />
        </label>
        <label>
          Since
          <select name="since" defaultValue={filters.since}>
            {SINCE.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="kind" defaultValue={filters.kind}>
            <option value="">any</option>
            <option value="tool_call">tool calls</option>
            <option value="approval_decision">approval decisions</option>
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {audit.error && <Failure error={audit.error} retry={audit.reload} />}
      {!audit.data && !audit.error && <Loading />}
      {audit.data && audit.data.entries.length === 0 && <Empty>Nothing in the audit log matches.</Empty>}
      {audit.data && audit.data.entries.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="muted">{audit.data.entries.length} entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Persona</th>
                <th scope="col">Tool</th>
                <th scope="col">Outcome</th>
                <th scope="col">Conversation</th>
                <th scope="col">Arguments</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.entries.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time at={e.at} />
                  </td>
                  <td>{e.persona ?? '—'}</td>
                  <td class="mono">{e.tool ?? '—'}</td>
                  <td>
                    <Badge tone={outcomeTone(e.outcome)}>{e.outcome.replace(/_/g, ' ')}</Badge>
                    {e.actor && <span class="muted"> by {e.actor}</span>}
                    {e.approvalId && <span class="muted mono"> [{e.approvalId}]</span>}
                    {e.durationMs !== null && <span class="muted"> {e.durationMs} ms</span>}
                  </td>
                  <td>
                    <ThreadLink thread={e.thread} />
                  </td>
                  <td>
                    {e.args !== null && e.args !== undefined && (
                      <details>
                        <summary>show</summary>
                        <Json value={e.args} />
                      </details>
                    )}
                    {e.detail && <div class="muted">{e.detail}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function outcomeTone(outcome: string): 'ok' | 'warn' | 'bad' | 'muted' {
  if (outcome === 'ok' || outcome === 'approved') return 'ok';
  if (/denied|refused|error|failed|expired/.test(outcome)) return 'bad';
  if (/ask|pending/.test(outcome)) return 'warn';
  return 'muted';
}
