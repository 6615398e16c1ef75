import { createHmac, randomBytes } from 'node:crypto';
import type { LoadedConfig } from '../core/config/index.js';
import { fail, ok, warn, type Fact } from './doctor-report.js';

const trim = (url: string) => url.replace(/\/+$/, '');
const asRecord = (body: unknown) => (body && typeof body === 'object' ? (body as Record<string, unknown>) : {});
const reason = (err: unknown) => (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
const MAX_REPOS = 30;

/**
 * `pantheon doctor`: whether each platform that sends webhooks reaches Pantheon, as far as it can
 * tell from here. Telegram (webhook mode) says so itself (`getWebhookInfo`); GitHub shows each
 * repository webhook's last delivery to a token that administers the repository; Slack (HTTP
 * mode) cannot be asked, so doctor sends Slack's own URL check, signed, to `channels.slack.publicUrl`.
 */
export async function webhookFacts(loaded: LoadedConfig): Promise<Fact[]> {
  const { config, personas } = loaded;
  const channels = config.channels as Record<string, Record<string, unknown> | undefined>;
  const facts: Promise<Fact[]>[] = [];
  const telegram = channels.telegram;
  if (telegram?.token && telegram.mode === 'webhook') facts.push(telegramWebhookFact(trim(String(telegram.apiRoot ?? 'https://api.telegram.org')), String(telegram.token)).then((f) => [f]));
  const slack = channels.slack;
  if (slack?.mode === 'http') facts.push(slackWebhookFact(slack).then((f) => [f]));
  const tokens = [...new Set(personas.map((p) => p.github?.token).filter((t): t is string => !!t))];
  if (config.github.webhookSecret && tokens.length) facts.push(githubWebhookFacts(trim(config.github.apiUrl), tokens));
  return (await Promise.all(facts)).flat();
}

/** In webhook mode Telegram says whether it reaches Pantheon's webhook, and the last error if not. */
async function telegramWebhookFact(root: string, token: string): Promise<Fact> {
  try {
    const res = await fetch(`${root}/bot${token}/getWebhookInfo`, { signal: AbortSignal.timeout(10_000) });
    const info = asRecord(asRecord(await res.json()).result);
    if (!info.url) return fail('telegram webhook: Telegram has no webhook URL for the bot; fix: start Pantheon with channels.telegram.mode webhook and a public URL that reaches /webhooks/telegram');
    if (info.last_error_message)
      return fail(
        `telegram webhook: Telegram cannot deliver to ${info.url} (${info.last_error_message}); fix: make that URL reach this server's /webhooks/telegram (reverse proxy, server.allowedHosts)`,
      );
    return ok(`telegram webhook: ${info.url}${info.pending_update_count ? `, ${info.pending_update_count} updates pending` : ''}`);
  } catch (err) {
    return warn(`telegram webhook: could not ask Telegram (${reason(err)})`);
  }
}

/** Slack's URL check (`url_verification`), signed with the signing secret, sent where Slack sends events. */
async function slackWebhookFact(slack: Record<string, unknown>): Promise<Fact> {
  const publicUrl = slack.publicUrl as string | undefined;
  if (!publicUrl) {
    return warn(
      "slack webhook: HTTP mode, and doctor cannot ask Slack where it sends events; fix: set channels.slack.publicUrl to the public address of this server (the start of the Slack app's Request URL), so doctor checks it",
    );
  }
  const url = `${trim(publicUrl)}/webhooks/slack/events`;
  const secret = (slack.signingSecret as string | undefined) ?? Object.values((slack.signingSecrets as Record<string, string> | undefined) ?? {})[0];
  if (!secret) return fail('slack webhook: no signing secret to sign the check with; fix: set channels.slack.signingSecret');
  const challenge = randomBytes(12).toString('hex');
  const body = JSON.stringify({ type: 'url_verification', token: 'pantheon-doctor', challenge });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    return fail(`slack webhook: ${url} cannot be reached (${reason(err)}); fix: make channels.slack.publicUrl reach this server (reverse proxy, DNS, firewall) and start Pantheon`);
  }
  const answer = asRecord(await res.json().catch(() => undefined));
  if (res.ok && answer.challenge === challenge) return ok(`slack webhook: ${url} answers Slack's URL check`);
  if (res.status === 401) return fail(`slack webhook: ${url} refuses a request signed with channels.slack.signingSecret (401); fix: use the signing secret of the Slack app whose Request URL this is`);
  return fail(
    `slack webhook: ${url} does not answer Slack's URL check (${res.status}); fix: point channels.slack.publicUrl at this server, where /webhooks/slack/events is served (reverse proxy, server.allowedHosts)`,
  );
}

interface Hook {
  repo: string;
  url: string;
  code: number | null;
  message: string | null;
}

/**
 * The repository webhooks that point at `/webhooks/github`, read with each persona's token where
 * it administers the repository (GitHub shows hooks to admins only), each with its last delivery.
 */
async function githubWebhookFacts(apiUrl: string, tokens: string[]): Promise<Fact[]> {
  const get = async (path: string, token: string): Promise<unknown> => {
    const res = await fetch(`${apiUrl}${path}`, {
      headers: { authorization: `token ${token}`, accept: 'application/vnd.github+json', 'user-agent': 'pantheon-doctor' },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`${res.status} from ${path}`);
    return res.json();
  };
  const hooks = new Map<string, Hook>();
  const administered = new Set<string>();
  const errors: string[] = [];
  for (const token of tokens) {
    try {
      const repos = ((await get('/user/repos?per_page=100', token)) as Array<{ full_name: string; permissions?: { admin?: boolean } }>).filter((r) => r.permissions?.admin);
      for (const { full_name } of repos.slice(0, MAX_REPOS)) {
        if (administered.has(full_name)) continue;
        administered.add(full_name);
        const list = (await get(`/repos/${full_name}/hooks`, token).catch(() => [])) as Array<{ config?: { url?: string }; last_response?: { code?: number | null; message?: string | null } }>;
        for (const h of list) {
          const url = h.config?.url ?? '';
          if (url.includes('/webhooks/github')) hooks.set(`${full_name} ${url}`, { repo: full_name, url, code: h.last_response?.code ?? null, message: h.last_response?.message ?? null });
        }
      }
    } catch (err) {
      // A refused token is reported with the tokens above; the others may still read the hooks.
      errors.push(reason(err));
    }
  }
  if (administered.size === 0 && errors.length === tokens.length) return [warn(`github webhooks: could not list the repositories' webhooks (${errors[0]})`)];
  if (administered.size === 0) {
    return [warn("github webhooks: no persona's token administers a repository, and only admins can read webhooks, so doctor cannot tell whether GitHub reaches /webhooks/github")];
  }
  if (hooks.size === 0) {
    return [
      warn(
        `github webhooks: none of ${[...administered].join(', ')} has a webhook to /webhooks/github; fix: add one (repository Settings › Webhooks: payload URL https://<this server>/webhooks/github, content type json, the secret of github.webhookSecret), or use github.polling`,
      ),
    ];
  }
  return [...hooks.values()].map(({ repo, url, code, message }) => {
    if (code === null) return warn(`github webhook ${repo}: ${url} has had no delivery yet`);
    if (code >= 200 && code < 300) return ok(`github webhook ${repo}: ${url} (last delivery ${code})`);
    const fix =
      code === 401
        ? "set the webhook's secret to github.webhookSecret (Pantheon refuses deliveries it cannot verify)"
        : "make that URL reach this server's /webhooks/github (reverse proxy, DNS, firewall, server.allowedHosts)";
    return fail(`github webhook ${repo}: GitHub's last delivery to ${url} failed (${code}${message ? ` ${message}` : ''}); fix: ${fix}`);
  });
}
