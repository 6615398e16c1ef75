import type pg from 'pg';
import type { InfraCheckSpec } from '../../core/config/schedules.js';
import { scrubSecrets, type Logger } from '../../core/log.js';
import type { OutboxPort } from '../types.js';
import { DISK_COMMAND, parseDf } from './health.js';
import type { HostRegistry } from './hosts.js';
import { httpProbe, tlsExpiry } from './probes.js';
import { runQuick } from './remote-exec.js';
import type { SshPool } from './ssh-pool.js';
import { ProbeRefusedError, type ProbeTargetGuard } from './target-guard.js';

/** A check as `schedules:` gives it: its name, what to check, the thread a failure is posted to. */
export interface ScheduledCheck {
  name: string;
  check: InfraCheckSpec;
  channel: string;
  resolved: boolean;
  /** Where it is in the configuration (`schedules[2]`, or `infra.schedule[0]`), for problems. */
  path: string;
}

/** A check's verdict: `detail` says what is wrong (or what was seen when it passes). */
export interface CheckOutcome {
  ok: boolean;
  detail: string;
}

export interface ScheduledChecksDeps {
  /** The check schedules, for the problems reported at start. */
  checks: ScheduledCheck[];
  hosts: HostRegistry;
  ssh: SshPool;
  pool: pg.Pool;
  outbox: OutboxPort;
  logger: Logger;
  /** What http and tls checks may reach (`infra.probeAllowlist`); default: the built-in refusals only. */
  probeGuard?: ProbeTargetGuard;
}

/**
 * The infra checks of `schedules:` (run when the scheduler says, orchestrator/schedules/). A
 * failing check opens an incident and posts once; later failures of the same incident stay
 * quiet; passing again closes it (and says so).
 */
export class ScheduledChecks {
  constructor(private readonly deps: ScheduledChecksDeps) {}

  /** Config problems (`path`, `problem`) to report at start. */
  problems(): { path: string; problem: string }[] {
    const out: { path: string; problem: string }[] = [];
    this.deps.checks.forEach((c) => {
      const at = c.path;
      const { kind, host, url, command } = c.check;
      if ((kind === 'disk' || kind === 'command') && !host) out.push({ path: `${at}.check.host`, problem: `a ${kind} check needs a host` });
      if (host && !this.deps.hosts.has(host)) out.push({ path: `${at}.check.host`, problem: `unknown host "${host}"; known: ${this.deps.hosts.names().join(', ') || 'none'}` });
      if ((kind === 'http' || kind === 'tls') && !url) out.push({ path: `${at}.check.url`, problem: `a ${kind} check needs a url` });
      if (kind === 'command' && !command) out.push({ path: `${at}.check.command`, problem: 'a command check needs a command' });
      if (!/^[a-z]+:.+/.test(c.channel)) out.push({ path: `${at}.channel`, problem: 'expected a thread id such as "local:ops" or "mattermost:<channel>"' });
    });
    return out;
  }

  /** Runs one check and opens or closes its incident. */
  async run(check: ScheduledCheck): Promise<CheckOutcome> {
    const { name } = check;
    let outcome: CheckOutcome;
    try {
      outcome = await this.evaluate(check);
    } catch (err) {
      outcome = { ok: false, detail: `check ${name} could not run: ${scrubSecrets((err as Error).message)}` };
    }
    if (outcome.ok) await this.resolve(check);
    else await this.open(check, outcome.detail);
    return outcome;
  }

  /** A refused probe target is the check's failure (posted once, as every failure), not a crash. */
  async evaluate(check: ScheduledCheck): Promise<CheckOutcome> {
    try {
      return await this.measure(check);
    } catch (err) {
      if (err instanceof ProbeRefusedError) return { ok: false, detail: `check ${check.name}: ${err.message}` };
      throw err;
    }
  }

  private async measure(check: ScheduledCheck): Promise<CheckOutcome> {
    const { kind, host, url, command, threshold } = check.check;
    const guard = this.deps.probeGuard;
    switch (kind) {
      case 'disk': {
        const limit = threshold ?? 90;
        const r = await runQuick(this.deps.ssh, host!, DISK_COMMAND, 30_000);
        const disks = parseDf(r.lines);
        if (!disks.length) return { ok: false, detail: `disk check on ${host} read no filesystems (${r.errors[0] ?? `exit ${r.exitCode}`})` };
        const full = disks.filter((d) => d.usedPercent > limit);
        return full.length
          ? { ok: false, detail: `disk above ${limit}% on ${host}: ${full.map((d) => `${d.mount} at ${d.usedPercent}%`).join(', ')}` }
          : { ok: true, detail: `disks on ${host} at or below ${limit}%` };
      }
      case 'http': {
        const r = await httpProbe(url!, { timeoutMs: 15_000, guard });
        if (!r.ok) return { ok: false, detail: `${url} is down: ${r.error ?? `HTTP ${r.status}`} (after ${r.latencyMs} ms)` };
        if (threshold !== undefined && r.latencyMs > threshold) return { ok: false, detail: `${url} is slow: ${r.latencyMs} ms, above ${threshold} ms` };
        return { ok: true, detail: `${url} answered HTTP ${r.status} in ${r.latencyMs} ms` };
      }
      case 'tls': {
        const days = threshold ?? 14;
        const r = await tlsExpiry(url!, { guard });
        return r.daysLeft < days
          ? { ok: false, detail: `TLS certificate of ${r.target} ${r.daysLeft < 0 ? 'has expired' : `expires in ${r.daysLeft} days`} (${r.validTo.toISOString().slice(0, 10)})` }
          : { ok: true, detail: `certificate of ${r.target} valid for ${r.daysLeft} more days` };
      }
      case 'command': {
        const r = await runQuick(this.deps.ssh, host!, command!, 60_000, 20);
        const said = scrubSecrets([...r.lines, ...r.errors].slice(0, 3).join(' / ')).slice(0, 300);
        if (r.timedOut) return { ok: false, detail: `\`${command}\` on ${host} did not finish within 60 s` };
        return r.exitCode === 0 ? { ok: true, detail: `\`${command}\` on ${host} passed` } : { ok: false, detail: `\`${command}\` failed on ${host} (exit ${r.exitCode})${said ? `: ${said}` : ''}` };
      }
    }
  }

  private async open(check: ScheduledCheck, detail: string): Promise<void> {
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `INSERT INTO infra_incidents (check_name, channel, detail) VALUES ($1, $2, $3)
       ON CONFLICT (check_name) WHERE closed_at IS NULL DO NOTHING RETURNING id`,
      [check.name, check.channel, detail],
    );
    if (!rows[0]) {
      await this.deps.pool.query('UPDATE infra_incidents SET last_seen = now() WHERE check_name = $1 AND closed_at IS NULL', [check.name]);
      return;
    }
    this.deps.logger.warn({ check: check.name, incident: rows[0].id, detail }, 'scheduled check failed: incident opened');
    await this.post(check, `infra-incident:${rows[0].id}:opened`, `🔥 ${detail} (check ${check.name}; incident ${rows[0].id}; posted once until it passes again)`);
  }

  private async resolve(check: ScheduledCheck): Promise<void> {
    const { rows } = await this.deps.pool.query<{ id: string; detail: string; minutes: number }>(
      `UPDATE infra_incidents SET closed_at = now() WHERE check_name = $1 AND closed_at IS NULL
       RETURNING id, detail, EXTRACT(EPOCH FROM (now() - opened_at)) / 60 AS minutes`,
      [check.name],
    );
    const closed = rows[0];
    if (!closed) return;
    this.deps.logger.info({ check: check.name, incident: closed.id }, 'scheduled check passes again: incident closed');
    if (check.resolved) {
      await this.post(
        check,
        `infra-incident:${closed.id}:resolved`,
        `✅ Resolved: check ${check.name} passes again (incident ${closed.id} lasted ${Math.max(1, Math.round(Number(closed.minutes)))} min; it was: ${closed.detail})`,
      );
    }
  }

  private async post(check: ScheduledCheck, key: string, text: string): Promise<void> {
    const platform = check.channel.split(':')[0]!;
    await this.deps.outbox.send({ idempotencyKey: key, platform, threadId: check.channel, role: 'system', text });
  }
}
