import { useEffect } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad, usePoll } from '../load.js';
import { href } from '../router.js';
import type { Budget, Persona, TeamAnswer, Usage } from '../types.js';
import { Badge, Failure, formatDollars, formatTokens, Loading } from '../ui/bits.js';
import { ThreadLink } from '../ui/refs.js';
import { TeamCharts } from './team-charts.js';

const STATUS: Record<string, { text: string; tone: 'ok' | 'info' | 'warn' | 'muted' }> = {
  idle: { text: 'idle', tone: 'muted' },
  running: { text: 'running', tone: 'info' },
  waiting_for_approval: { text: 'waiting for approval', tone: 'warn' },
};

export function TeamView() {
  const team = useLoad('personas', () => api.get<TeamAnswer>('/api/personas'));
  usePoll(team.reload, 5000);
  const rendered = team.data !== undefined;
  useEffect(() => {
    // What bench and tests time the first load by: the team is on screen.
    if (rendered && performance.getEntriesByName('pantheon:team-rendered').length === 0) performance.mark('pantheon:team-rendered');
  }, [rendered]);
  if (team.error && !team.data) return <Failure error={team.error} retry={team.reload} />;
  if (!team.data) return <Loading />;
  const { personas, team: whole } = team.data;
  return (
    <>
      <p class="muted">
        Today (since 00:00 UTC): {formatTokens(whole.today.inputTokens + whole.today.outputTokens)} tokens, {formatDollars(whole.today.costUsd)} in {whole.today.calls} model calls
        <BudgetText usage={whole.today} budget={whole.budget} />
      </p>
      <div class="table-wrap" data-testid="team">
        <table>
          <caption class="visually-hidden">The team: each persona's role, model, handles, status and today's use against its budget</caption>
          <thead>
            <tr>
              <th scope="col">Persona</th>
              <th scope="col">Role</th>
              <th scope="col">Model</th>
              <th scope="col">Handles</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Tokens today
              </th>
              <th scope="col" class="num">
                Cost today
              </th>
            </tr>
          </thead>
          <tbody>
            {personas.map((p) => (
              <PersonaRow key={p.id} persona={p} />
            ))}
          </tbody>
        </table>
      </div>
      <TeamCharts personas={personas.map((p) => p.id)} />
    </>
  );
}

function PersonaRow({ persona: p }: { persona: Persona }) {
  const status = STATUS[p.status] ?? { text: p.status, tone: 'muted' as const };
  const tokens = p.today.inputTokens + p.today.outputTokens;
  return (
    <tr data-persona={p.id}>
      <th scope="row">
        {p.name} <span class="muted mono">@{p.id}</span>
      </th>
      <td>{p.role}</td>
      <td class="mono">
        {p.model}
        {p.fallbackModels.length > 0 && <div class="muted">then {p.fallbackModels.join(', ')}</div>}
      </td>
      <td>
        {p.handles.map((h) => (
          <div key={h.platform}>{h.platform}</div>
        ))}
        {p.github && <div>github: {p.github.login}</div>}
        {p.handles.length === 0 && !p.github && <span class="muted">local only</span>}
      </td>
      <td>
        {p.status === 'waiting_for_approval' ? (
          <a href={href('approvals')}>
            <Badge tone={status.tone}>{status.text}</Badge>
          </a>
        ) : (
          <Badge tone={status.tone}>{status.text}</Badge>
        )}
        {p.activeThreads.map((t) => (
          <div key={t}>
            <ThreadLink thread={t} />
          </div>
        ))}
      </td>
      <td class="num">
        {formatTokens(tokens)}
        <Meter used={tokens} limit={p.budget.dailyTokens} format={formatTokens} label={`${p.name}'s tokens against the daily budget`} />
      </td>
      <td class="num">
        {formatDollars(p.today.costUsd)}
        <Meter used={p.today.costUsd} limit={p.budget.dailyUsd} format={formatDollars} label={`${p.name}'s cost against the daily budget`} />
      </td>
    </tr>
  );
}

function Meter({ used, limit, label, format }: { used: number; limit: number | null; label: string; format: (n: number) => string }) {
  if (limit === null || limit <= 0) return <div class="muted">no budget</div>;
  return (
    <>
      <meter class="meter" min={0} max={limit} high={limit * 0.9} value={Math.min(used, limit)} aria-label={label} />
      <div class="muted">of {format(limit)}</div>
    </>
  );
}

function BudgetText({ usage, budget }: { usage: Usage; budget: Budget }) {
  const parts: string[] = [];
  if (budget.dailyTokens !== null) parts.push(`${Math.round(((usage.inputTokens + usage.outputTokens) / budget.dailyTokens) * 100)}% of ${formatTokens(budget.dailyTokens)} tokens`);
  if (budget.dailyUsd !== null) parts.push(`${Math.round((usage.costUsd / budget.dailyUsd) * 100)}% of ${formatDollars(budget.dailyUsd)}`);
  return parts.length ? <span>; the team's budget: {parts.join(', ')}</span> : null;
}
