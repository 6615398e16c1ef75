import type { FastifyInstance } from 'fastify';
import { boundedBody } from '../../core/http/body-budget.js';
import { deliverInbound } from '../../core/chat/inbound.js';
import type { Logger } from '../../core/log.js';
import type { Envelope, IngressSink } from '../../core/chat/types.js';
import { ACTIONS_PATH, verifyActionContext } from './cards.js';
import type { BotRoster } from './roster.js';

/** A button click's largest body (`server.limits.webhookBodyKb.mattermost`). */
const ACTION_BODY_LIMIT = 64 * 1024;

/** What Mattermost POSTs to an interactive message's integration URL when a button is clicked. */
interface ActionRequest {
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  post_id?: string;
  context?: unknown;
}

/**
 * `POST /webhooks/mattermost/actions`: an Approve/Deny click becomes an inbound envelope with
 * the text `approve <id>` / `deny <id>`, authored by the clicking user's username, in the
 * card's thread, exactly as if they had typed it: the orchestrator checks the `humans:`
 * registry and refuses non-approvers. The answer is quick (an ephemeral note to the clicker);
 * the decision itself is posted in the thread.
 */
export function registerActionRoute(http: FastifyInstance, deps: { roster: BotRoster; ingress: IngressSink; secret: () => string | null; logger: Logger; bodyLimitBytes?: number }): void {
  // A click is a few hundred bytes; its proof (the signed context) is in the body, so the body counts against the shared budget.
  const limitBytes = deps.bodyLimitBytes ?? ACTION_BODY_LIMIT;
  http.post(ACTIONS_PATH, { bodyLimit: limitBytes, onRequest: boundedBody({ limitBytes }) }, async (request, reply) => {
    const body = (request.body ?? {}) as ActionRequest;
    const secret = deps.secret();
    const context = secret ? verifyActionContext(secret, body.context) : null;
    if (!context || !body.user_id || !body.post_id) {
      return reply.code(403).send({ ephemeral_text: 'This button is not valid here. Reply with `approve <id>` or `deny <id>` instead.' });
    }
    const username = await usernameOf(deps.roster, body.user_id).catch(() => body.user_name);
    if (!username) return reply.code(503).send({ ephemeral_text: 'Pantheon could not tell who clicked; reply with the command instead.' });
    const envelope: Envelope = {
      // One answer per person, button and card: a double click is taken once.
      id: `mattermost:action:${body.post_id}:${body.user_id}:${context.action}`,
      platform: 'mattermost',
      threadId: context.thread,
      author: { id: username, name: username },
      text: `${context.action} ${context.approval}`,
      receivedAt: new Date().toISOString(),
    };
    // Not stored: an error answer, so Mattermost tells the clicker it failed and they can click again.
    const { ack, accepted } = await deliverInbound(deps.ingress, envelope, { redelivery: 'platform', logger: deps.logger });
    if (!ack) return reply.code(503).send({ ephemeral_text: 'Pantheon could not take that click in; click again, or reply with the command.' });
    deps.logger.info({ approval: context.approval, action: context.action, user: username, accepted }, 'mattermost approval button clicked');
    return reply.send({
      ephemeral_text: accepted ? `Sent \`${context.action} ${context.approval}\` as @${username}; the answer follows in the thread.` : `You already clicked ${context.action} on ${context.approval}.`,
    });
  });
}

/** The username behind a Mattermost user id, asked of Mattermost (the click carries only the id for sure). */
async function usernameOf(roster: BotRoster, userId: string): Promise<string> {
  const bot = roster.system();
  if (!bot) throw new Error('no bot signed in');
  return (await bot.client.getUser(userId)).username;
}
