/**
 * The shapes Slack sends, built the way Slack builds them: Events API `event_callback` bodies
 * (the same in Socket Mode envelopes and HTTP POSTs) and `block_actions` interactivity payloads.
 */

/** One Slack app installed in the fake workspace: one per persona. */
export interface FakeSlackApp {
  /** `A…` */
  id: string;
  name: string;
  botToken: string;
  appToken: string;
  /** The app's bot user, `U…`: what `<@U…>` mentions of it contain. */
  botUserId: string;
  /** `B…`: set on every message the app posts. */
  botId: string;
}

export interface SlackEvent {
  type: string;
  [key: string]: unknown;
}

export interface EventCallbackBody {
  token: string;
  team_id: string;
  api_app_id: string;
  event: SlackEvent;
  type: 'event_callback';
  event_id: string;
  event_time: number;
  authorizations: Array<{ enterprise_id: null; team_id: string; user_id: string; is_bot: true; is_enterprise_install: false }>;
  is_ext_shared_channel: false;
}

let eventCounter = 0;

export function nextEventId(): string {
  eventCounter += 1;
  return `Ev${Date.now().toString(36).toUpperCase()}${String(eventCounter).padStart(4, '0')}`;
}

export function eventCallback(teamId: string, app: FakeSlackApp, event: SlackEvent, eventId = nextEventId()): EventCallbackBody {
  return {
    token: 'legacy-verification-token',
    team_id: teamId,
    api_app_id: app.id,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: app.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

export interface ButtonClick {
  /** The human clicking, `U…`. */
  user: string;
  userName?: string;
  channel: string;
  /** ts of the message holding the button. */
  messageTs: string;
  /** The thread that message is in, when it is in one. */
  threadTs?: string;
  actionId: string;
  value: string;
  blockId?: string;
}

export function blockActions(teamId: string, app: FakeSlackApp, click: ButtonClick): Record<string, unknown> {
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'block_actions',
    user: { id: click.user, username: click.userName ?? click.user, name: click.userName ?? click.user, team_id: teamId },
    api_app_id: app.id,
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: click.messageTs, channel_id: click.channel, is_ephemeral: false, thread_ts: click.threadTs },
    trigger_id: `${Date.now()}.${teamId}.trigger`,
    team: { id: teamId, domain: 'pantheon-test' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: click.channel, name: click.channel },
    message: { type: 'message', user: app.botUserId, bot_id: app.botId, ts: click.messageTs, thread_ts: click.threadTs, text: '' },
    response_url: 'http://127.0.0.1:9/unused-response-url',
    actions: [
      {
        action_id: click.actionId,
        block_id: click.blockId ?? 'pantheon_approval',
        text: { type: 'plain_text', text: click.actionId, emoji: true },
        value: click.value,
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}
