import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { approvalPost, signAction, verifyActionContext } from '../../platforms/mattermost/cards.js';
import { formatForMattermost, MATTERMOST_MAX_MESSAGE } from '../../platforms/mattermost/format.js';
import { mentionsAsPersonas, postToEnvelope, type PostLike, type TeamBots } from '../../platforms/mattermost/parse.js';
import { decodeMattermostThreadId, encodeMattermostThreadId } from '../../platforms/mattermost/thread-id.js';
import { mattermostModule } from '../../platforms/mattermost/module.js';
import type { ApprovalCard } from '../../core/chat/types.js';
import type { ModuleContext } from '../../core/modules/types.js';
import { createLogger } from '../../core/log.js';
import { assertThreadIdRoundTrip } from './thread-id-contract.js';

const ATHENA_ID = 'a'.repeat(26);
const APOLLO_ID = 'b'.repeat(26);
const JEFF_ID = 'j'.repeat(26);
const CHANNEL = 'c'.repeat(26);
const bots: TeamBots = {
  personaByUserId: new Map([
    [ATHENA_ID, 'athena'],
    [APOLLO_ID, 'apollo'],
  ]),
  personaByUsername: new Map([
    ['athena-bot', 'athena'],
    ['apollo', 'apollo'],
  ]),
};
const jeff = { id: JEFF_ID, username: 'jeff', isBot: false };
const post = (over: Partial<PostLike> = {}): PostLike => ({
  id: 'p'.repeat(26),
  channel_id: CHANNEL,
  root_id: '',
  user_id: JEFF_ID,
  message: 'hello',
  type: '',
  create_at: 1_700_000_000_000,
  props: {},
  ...over,
});
const townSquare = { id: CHANNEL, name: 'town-square', type: 'O' };

describe('mattermost thread ids', () => {
  it('pass the thread-id contract', () => {
    const adapterLike = {
      name: 'mattermost',
      encodeThreadId: (p: Record<string, string>) => encodeMattermostThreadId({ channelId: p.channelId!, rootId: p.rootId }),
      decodeThreadId: (id: string) => ({ ...decodeMattermostThreadId(id) }) as Record<string, string>,
    };
    assertThreadIdRoundTrip(adapterLike, [{ channelId: CHANNEL, rootId: 'r'.repeat(26) }, { channelId: 'town-square' }, { channelId: 'odd:name#1', rootId: 'root:with#hash' }]);
  });

  it('are the channel and the root post, readable for real ids', () => {
    assert.equal(encodeMattermostThreadId({ channelId: CHANNEL, rootId: 'r'.repeat(26) }), `mattermost:${CHANNEL}:${'r'.repeat(26)}`);
    assert.throws(() => decodeMattermostThreadId('mattermost:'), /not a Mattermost thread id/);
    assert.throws(() => decodeMattermostThreadId('mattermost:a:b:c'), /not a Mattermost thread id/);
  });
});

describe('mattermost posts become envelopes', () => {
  it('a top-level post starts its own thread; a reply joins its root; one id per post', () => {
    const top = postToEnvelope(post({ message: '@athena-bot plan the release' }), townSquare, jeff, bots)!;
    assert.equal(top.id, `mattermost:${'p'.repeat(26)}`);
    assert.equal(top.threadId, `mattermost:${CHANNEL}:${'p'.repeat(26)}`);
    assert.equal(top.text, '@athena plan the release', 'the bot username is the persona handle');
    assert.deepEqual(top.author, { id: 'jeff', name: 'jeff' });
    assert.equal(top.bindingKey, 'mattermost:town-square');
    assert.equal(top.directTo, undefined);
    const reply = postToEnvelope(post({ id: 'q'.repeat(26), root_id: 'p'.repeat(26) }), townSquare, jeff, bots)!;
    assert.equal(reply.threadId, top.threadId);
    assert.equal(reply.id, `mattermost:${'q'.repeat(26)}`);
  });

  it("a DM to a persona's bot is direct to that persona", () => {
    const dm = { id: 'd'.repeat(26), name: [APOLLO_ID, JEFF_ID].sort().join('__'), type: 'D' };
    const envelope = postToEnvelope(post({ channel_id: dm.id, message: 'can you look at the build?' }), dm, jeff, bots)!;
    assert.equal(envelope.directTo, 'apollo');
  });

  it("posts of the team's bots, other bots, webhooks and the system are not for the ingress", () => {
    assert.equal(postToEnvelope(post({ user_id: ATHENA_ID }), townSquare, { id: ATHENA_ID, username: 'athena-bot', isBot: true }, bots), null);
    assert.equal(postToEnvelope(post({ user_id: 'z'.repeat(26) }), townSquare, { id: 'z'.repeat(26), username: 'ci', isBot: true }, bots), null);
    assert.equal(postToEnvelope(post({ props: { from_webhook: 'true' } }), townSquare, jeff, bots), null);
    assert.equal(postToEnvelope(post({ type: 'system_join_channel' }), townSquare, jeff, bots), null);
    assert.equal(postToEnvelope(post({ message: '   ' }), townSquare, jeff, bots), null);
  });

  it('only whole bot usernames are rewritten', () => {
    const map = new Map([['athena-bot', 'athena']]);
    assert.equal(mentionsAsPersonas('@athena-bot, and @Athena-Bot: hi', map), '@athena, and @athena: hi');
    assert.equal(mentionsAsPersonas('@athena-bots mail me at x@athena-bot.dev', map), '@athena-bots mail me at x@athena-bot.dev');
  });
});

describe('mattermost formatting', () => {
  it('mentions a persona by its bot username and keeps markdown', () => {
    const usernames = new Map([
      ['apollo', 'apollo-bot'],
      ['athena', 'athena'],
    ]);
    assert.deepEqual(formatForMattermost('**Handing to** @apollo; cc @athena\n```ts\nx()\n```', usernames), ['**Handing to** @apollo-bot; cc @athena\n```ts\nx()\n```']);
  });

  it('splits at 16383 characters on line boundaries, reopening code fences', () => {
    const line = 'x'.repeat(99);
    const text = '```\n' + Array.from({ length: 400 }, () => line).join('\n') + '\n```';
    const parts = formatForMattermost(text);
    assert.ok(parts.length >= 3, `${parts.length} parts`);
    for (const part of parts) {
      assert.ok(part.length <= MATTERMOST_MAX_MESSAGE, `part of ${part.length}`);
      assert.equal((part.match(/^```/gm) ?? []).length % 2, 0, 'each part has balanced fences');
    }
    assert.equal(
      parts
        .join('')
        .replace(/```\n?/g, '')
        .replace(/\n/g, ''),
      line.repeat(400),
    );
  });
});

describe('mattermost approval cards', () => {
  const card: ApprovalCard = {
    approvalId: 'k7m2',
    title: 'Approval needed [k7m2]: hephaestus wants to run restart_service',
    fields: [
      { label: 'Persona', value: 'hephaestus' },
      { label: 'Arguments', value: 'service=api' },
    ],
    actions: [
      { id: 'approve', label: 'Approve' },
      { id: 'deny', label: 'Deny' },
    ],
    fallbackText: 'Approval needed [k7m2] ... reply approve k7m2 or deny k7m2',
  };
  const thread = `mattermost:${CHANNEL}:${'r'.repeat(26)}`;

  it('draws fields and two buttons pointing at Pantheon, with a signed context', () => {
    const { message, props } = approvalPost(card, { actionsUrl: 'https://pantheon.example/webhooks/mattermost/actions', secret: 's3cret', threadId: thread });
    assert.match(message, /Approval needed \[k7m2\]/);
    assert.match(message, /`approve k7m2`/);
    const [attachment] = props.attachments;
    assert.equal(attachment!.fallback, card.fallbackText);
    assert.deepEqual(
      attachment!.fields!.map((f) => [f.title, f.value, f.short]),
      [
        ['Persona', 'hephaestus', true],
        ['Arguments', 'service=api', false],
      ],
    );
    const actions = attachment!.actions as unknown as Array<{ id: string; name: string; integration: { url: string; context: unknown } }>;
    assert.deepEqual(
      actions.map((a) => [a.id, a.name, a.integration.url]),
      [
        ['approve', 'Approve', 'https://pantheon.example/webhooks/mattermost/actions'],
        ['deny', 'Deny', 'https://pantheon.example/webhooks/mattermost/actions'],
      ],
    );
    const context = verifyActionContext('s3cret', actions[1]!.integration.context);
    assert.deepEqual(context && { ...context, sig: undefined }, { approval: 'k7m2', action: 'deny', thread, sig: undefined });
  });

  it('refuses a context that was not signed by Pantheon or was altered', () => {
    const fields = { approval: 'k7m2', action: 'approve' as const, thread };
    const sig = signAction('s3cret', fields);
    assert.ok(verifyActionContext('s3cret', { ...fields, sig }));
    assert.equal(verifyActionContext('other', { ...fields, sig }), null);
    assert.equal(verifyActionContext('s3cret', { ...fields, approval: 'zzzz', sig }), null);
    assert.equal(verifyActionContext('s3cret', { ...fields, sig: 'abc' }), null);
    assert.equal(verifyActionContext('s3cret', undefined), null);
  });
});

describe('the mattermost module', () => {
  const ctx = (mattermost: unknown, tokens: Record<string, string>) =>
    ({
      loaded: {
        config: { channels: { mattermost } },
        personas: ['athena', 'apollo'].map((id) => ({ id, handles: tokens[id] ? { mattermost: { token: tokens[id] } } : {} })),
      },
      logger: createLogger({ level: 'silent' }),
      registry: { get: () => undefined },
      ingress: async () => ({ id: 'x', accepted: true }),
    }) as unknown as ModuleContext;

  it('is off without a url or without a persona token, on with both', async () => {
    assert.equal(await mattermostModule(ctx(undefined, { athena: 'tok-athena-1' })), null);
    assert.equal(await mattermostModule(ctx({ url: 'http://127.0.0.1:1', pingIntervalSeconds: 30, lostAfterHours: 24 }, {})), null);
    const mod = await mattermostModule(ctx({ url: 'http://127.0.0.1:1', pingIntervalSeconds: 30, lostAfterHours: 24 }, { apollo: 'tok-apollo-1' }));
    assert.equal(mod?.name, 'mattermost');
    assert.deepEqual(
      mod?.adapters?.map((a) => a.name),
      ['mattermost'],
    );
  });
});
