import type { LoadedConfig } from '../core/config/index.js';
import { fail, ok, type Fact } from './doctor-report.js';
import { webhookFacts } from './doctor-webhooks.js';

/** One platform identity to try: whose token, where it is configured, and the request that proves it. */
interface TokenProbe {
  who: string;
  /** Where the token is set, for the fix (`handles.mattermost.token of apollo`). */
  field: string;
  url: string;
  init: RequestInit;
  /** The account name in a successful answer, or undefined when the answer says the token is refused. */
  accept: (status: number, body: unknown) => string | undefined;
  /** One line: how to get a valid token. */
  fix: string;
}

const trim = (url: string) => url.replace(/\/+$/, '');
const asRecord = (body: unknown) => (body && typeof body === 'object' ? (body as Record<string, unknown>) : {});

/**
 * `pantheon doctor`'s Platforms section: every configured identity's token is shown to its
 * platform's API, at the configured URL (so tests use the fakes): Mattermost `/users/me`, Slack
 * `auth.test`, Discord `/users/@me`, Telegram `getMe`, GitHub `/user`. Each refusal comes with
 * its fix. Then whether the webhooks reach Pantheon (doctor-webhooks.ts).
 */
export async function platformFacts(loaded: LoadedConfig): Promise<Fact[]> {
  const { config, personas } = loaded;
  const channels = config.channels as Record<string, Record<string, unknown> | undefined>;
  const probes: TokenProbe[] = [];
  const mattermost = channels.mattermost;
  const slack = channels.slack;
  const discord = channels.discord;
  const telegram = channels.telegram;
  for (const persona of personas) {
    const handles = persona.handles as Record<string, Record<string, string> | undefined>;
    const token = handles.mattermost?.token;
    if (mattermost && token) {
      probes.push({
        who: `mattermost ${persona.id}`,
        field: `handles.mattermost.token of ${persona.id}`,
        url: `${trim(String(mattermost.url))}/api/v4/users/me`,
        init: { headers: { authorization: `Bearer ${token}` } },
        accept: (status, body) => (status === 200 ? `@${asRecord(body).username}` : undefined),
        fix: `create a personal access token for ${persona.id}'s bot account (Mattermost: Integrations › Bot Accounts) and set it in handles.mattermost.token`,
      });
    }
    const botToken = handles.slack?.botToken;
    if (slack && botToken) {
      probes.push({
        who: `slack ${persona.id}`,
        field: `handles.slack.botToken of ${persona.id}`,
        url: `${trim(String(slack.apiUrl ?? 'https://slack.com/api'))}/auth.test`,
        init: { method: 'POST', headers: { authorization: `Bearer ${botToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '' },
        accept: (status, body) => (status === 200 && asRecord(body).ok === true ? `${asRecord(body).user} in ${asRecord(body).team}` : undefined),
        fix: `copy the Bot User OAuth Token (xoxb-…) of ${persona.id}'s Slack app (OAuth & Permissions) into handles.slack.botToken`,
      });
    }
    const discordToken = handles.discord?.token;
    if (discord && discordToken) {
      probes.push({
        who: `discord ${persona.id}`,
        field: `handles.discord.token of ${persona.id}`,
        url: `${trim(String(discord.apiUrl ?? 'https://discord.com/api'))}/v10/users/@me`,
        init: { headers: { authorization: `Bot ${discordToken}` } },
        accept: (status, body) => (status === 200 ? String(asRecord(body).username) : undefined),
        fix: `reset the token of ${persona.id}'s bot (Discord Developer Portal › Bot) and set it in handles.discord.token`,
      });
    }
    const githubToken = persona.github?.token;
    if (githubToken) {
      probes.push({
        who: `github ${persona.id}`,
        field: `github.token of ${persona.id}`,
        url: `${trim(config.github.apiUrl)}/user`,
        init: { headers: { authorization: `token ${githubToken}`, accept: 'application/vnd.github+json', 'user-agent': 'pantheon-doctor' } },
        accept: (status, body) => (status === 200 ? String(asRecord(body).login) : undefined),
        fix: `create a token for GitHub user ${persona.github?.login} (Settings › Developer settings › Personal access tokens) and set it in github.token of ${persona.id}`,
      });
    }
  }
  const telegramRoot = trim(String(telegram?.apiRoot ?? 'https://api.telegram.org'));
  if (telegram?.token) {
    probes.push({
      who: 'telegram bot',
      field: 'channels.telegram.token',
      url: `${telegramRoot}/bot${telegram.token}/getMe`,
      init: {},
      accept: (status, body) => (status === 200 && asRecord(body).ok === true ? `@${asRecord(asRecord(body).result).username}` : undefined),
      fix: 'ask @BotFather for the bot token (/token) and set it in channels.telegram.token',
    });
  }
  if (probes.length === 0) return [ok('platforms: none configured beyond the local chat')];
  const [facts, webhooks] = await Promise.all([Promise.all(probes.map(tryToken)), webhookFacts(loaded)]);
  return [...facts, ...webhooks];
}

async function tryToken(probe: TokenProbe): Promise<Fact> {
  const host = new URL(probe.url).host;
  let res: Response;
  try {
    res = await fetch(probe.url, { ...probe.init, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const why = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    return fail(`${probe.who}: cannot reach ${host} (${why}); fix: check the platform's URL in pantheon.yaml and that this host can reach it`);
  }
  const body = await res.json().catch(() => undefined);
  const account = probe.accept(res.status, body);
  if (account) return ok(`${probe.who}: token accepted by ${host} (${account})`);
  const detail = asRecord(body).error ?? asRecord(body).message ?? asRecord(body).description;
  return fail(`${probe.who}: ${host} refuses the token in ${probe.field} (${res.status}${detail ? ` ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}); fix: ${probe.fix}`);
}
