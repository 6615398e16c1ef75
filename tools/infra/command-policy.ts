import type { RiskClass } from '../../core/config/policy.js';

/** A host's command policy from pantheon.yaml (`infra.hosts[].policy`). */
export interface HostPolicyConfig {
  /** Patterns of commands that run without approval, besides the built-in read-only ones. */
  allow: string[];
  /** Patterns of commands that are refused outright (checked on every part of a compound command). */
  deny: string[];
  /** Risk class of every other command (`infra`: the team policy asks a human by default). */
  risk: RiskClass;
}

/** How a command is treated on a host: runs as a read, goes through the policy at `risk`, or is refused. */
export type CommandVerdict = { kind: 'read' } | { kind: 'risky'; risk: RiskClass } | { kind: 'deny'; pattern: string };

/**
 * Commands that only look: they run without approval on every host. Whole-command matches;
 * anything chaining, redirecting or substituting (see SHELL_SYNTAX) never counts as one of them.
 */
const READ_ONLY: RegExp[] = [
  /^uptime( -[ps])?$/,
  /^df( -[hHPTiklma]+)*( \/[\w./-]*)*$/,
  /^free( -[bkmghtlw]+)*$/,
  /^docker ps( (-a|--all|-q|--quiet|--no-trunc|-s|--size))*$/,
  /^docker (stats --no-stream|info|version|images)$/,
  /^systemctl (status|is-active|is-enabled|is-failed|show)( --no-pager| -n ?\d+| -l| --full)*( [\w@.:-]+)+( --no-pager| -n ?\d+| -l| --full)*$/,
  /^systemctl list-(units|timers|unit-files)( [\w@.*:=-]+)*$/,
  /^journalctl( (-u ?[\w@.:-]+|-n ?\d+|--no-pager|-p ?\w+|--since=?[\w:-]+))+$/,
  /^(hostname|whoami|id|date|uname( -[a-z]+)?|nproc|lsblk|ip (a|addr|r|route))$/,
  /^cat \/proc\/(loadavg|meminfo|cpuinfo|uptime)$/,
  /^ps( aux| -ef| -eo [\w,%]+)?$/,
  /^(ss|netstat) -[tulpnax]+$/,
];

/** Shell syntax that chains, redirects, substitutes or globs: a command with it is never auto-read. */
const SHELL_SYNTAX = /[;&|<>$`\\\n\r(){}*?!'"#~]/;

/** `/regex/` is a regular expression; anything else is a glob where `*` matches anything. */
function compile(pattern: string): RegExp {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  if (regex) return new RegExp(regex[1]!, regex[2]);
  return new RegExp(
    `^${pattern
      .trim()
      .replace(/[.+^${}()|[\]\\?]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
}

/** The simple commands inside a compound one (`a; b && c | d`, `$(e)`), for deny checks. */
function commandParts(command: string): string[] {
  return command
    .split(/;|&&|\|\||\||\n|\$\(|`|\)/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A host's policy, compiled once. */
export class CommandPolicy {
  private readonly allow: { pattern: string; re: RegExp }[];
  private readonly deny: { pattern: string; re: RegExp }[];

  constructor(private readonly config: HostPolicyConfig) {
    this.allow = config.allow.map((pattern) => ({ pattern, re: compile(pattern) }));
    this.deny = config.deny.map((pattern) => ({ pattern, re: compile(pattern) }));
  }

  /** Deny wins over everything; then read-only (built in or `allow`) runs; the rest is `risk`. */
  classify(command: string): CommandVerdict {
    const whole = command.trim().replace(/[ \t]+/g, ' ');
    for (const candidate of [whole, ...commandParts(whole)]) {
      const hit = this.deny.find((d) => d.re.test(candidate));
      if (hit) return { kind: 'deny', pattern: hit.pattern };
    }
    if (!SHELL_SYNTAX.test(whole)) {
      if (READ_ONLY.some((re) => re.test(whole))) return { kind: 'read' };
      if (this.allow.some((a) => a.re.test(whole))) return { kind: 'read' };
    }
    return { kind: 'risky', risk: this.config.risk };
  }

  /** The risk of a command for the tool guard, or a refusal that says which rule refused it. */
  riskOf(command: string, hostName: string): RiskClass | { refuse: string } {
    const verdict = this.classify(command);
    if (verdict.kind === 'deny') return { refuse: `the command policy of host ${hostName} refuses commands matching "${verdict.pattern}".` };
    return verdict.kind === 'read' ? 'read' : verdict.risk;
  }
}
