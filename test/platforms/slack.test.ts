import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../core/log.js';
import { SlackAdapter } from '../../platforms/slack/adapter.js';
import { approvalBlocks, commandForAction } from '../../platforms/slack/cards.js';
import { formatForSlack, toMrkdwn } from '../../platforms/slack/format.js';
import { fromSlackText, parseSlackPayload } from '../../platforms/slack/parse.js';
import { verifySlackSignature } from '../../platforms/slack/verify.js';
import type { ApprovalCard } from '../../core/chat/types.js';
import { signSlackRequest } from '../fakes/slack/sign.js';
import { assertThreadIdRoundTrip } from './thread-id-contract.js';

const SECRET = 'slack-signing-secret-for-tests';
const personaByBotUser = new Map([
  ['U0BOTATHENA', 'athena'],
  ['U0BOTAPOLLO', 'apollo'],
]);
const ctx = { receiver: 'athena', personaByBotUser, authorName: 'jeff' };

const card: ApprovalCard = {
  approvalId: 'k7m2p',
  title: 'Approval needed [k7m2p]: athena wants to run post_message',
  fields: [
    { label: 'Tool', value: 'post_message' },
    { label: 'Arguments', value: '{"text":"a < b & c"}' },
  ],
  actions: [
    { id: 'approve', label: 'Approve' },
    { id: 'deny', label: 'Deny' },
  ],
  fallbackText: 'Approval needed [k7m2p]. Answer `approve k7m2p` or `deny k7m2p`.',
};

function event(e: Record<string, unknown>) {
  return { type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: 'Ev1', event: e };
}

describe('slack thread ids', () => {
  it('pass the thread-id contract', () => {
    const adapter = new SlackAdapter({ apis: new Map(), voice: 'athena', displayName: (id) => id, logger: createLogger({ level: 'silent' }) });
    assertThreadIdRoundTrip(adapter, [
      { team: 'T0123', channel: 'C0456', thread: '1700000000.000100' },
      { team: 'T0123', channel: 'D0789' },
      { team: 'E:enterprise#1', channel: 'C:odd#name', thread: '1.2' },
    ]);
    assert.throws(() => adapter.decodeThreadId('slack:'), /not a Slack thread id/);
  });
});

describe('slack signature verification', () => {
  const raw = JSON.stringify({ type: 'event_callback', event: { type: 'message', text: 'hi' } });
  const now = 1_700_000_000;
  const signed = (ts: number, body = raw) => signSlackRequest(SECRET, body, ts);

  it("accepts Slack's own signature within the window, with any of several app secrets", () => {
    const h = signed(now - 60);
    assert.deepEqual(verifySlackSignature([SECRET], { timestamp: h['x-slack-request-timestamp'], signature: h['x-slack-signature'], rawBody: raw, now }), { ok: true });
    assert.deepEqual(verifySlackSignature(['other-app-secret', SECRET], { timestamp: h['x-slack-request-timestamp'], signature: h['x-slack-signature'], rawBody: raw, now }), { ok: true });
  });

  it('refuses an old timestamp even when the signature over it is right (a replay)', () => {
    const h = signed(now - 301);
    const r = verifySlackSignature([SECRET], { timestamp: h['x-slack-request-timestamp'], signature: h['x-slack-signature'], rawBody: raw, now });
    assert.deepEqual(r, { ok: false, reason: 'timestamp outside the 5-minute window' });
    const future = signed(now + 301);
    assert.equal(verifySlackSignature([SECRET], { timestamp: future['x-slack-request-timestamp'], signature: future['x-slack-signature'], rawBody: raw, now }).ok, false);
  });

  it('refuses a changed body, the wrong secret, and missing or malformed headers', () => {
    const h = signed(now);
    const check = (secrets: string[], input: Partial<{ timestamp: string; signature: string; rawBody: string }>) =>
      verifySlackSignature(secrets, { timestamp: h['x-slack-request-timestamp'], signature: h['x-slack-signature'], rawBody: raw, now, ...input });
    assert.deepEqual(check([SECRET], { rawBody: raw.replace('hi', 'ho') }), { ok: false, reason: 'signature does not match' });
    assert.deepEqual(check(['wrong-secret'], {}), { ok: false, reason: 'signature does not match' });
    assert.equal(check([SECRET], { signature: undefined as never }).ok, false);
    assert.equal(check([SECRET], { signature: 'v1=abc' }).ok, false);
    assert.equal(check([SECRET], { timestamp: '17e8' }).ok, false);
    assert.deepEqual(check([], {}), { ok: false, reason: 'no signing secret is configured' });
  });
});

describe('slack payloads to envelopes', () => {
  it('an @mention in a channel: the persona mention becomes @persona, the thread is the message itself', () => {
    const e = parseSlackPayload(
      event({ type: 'app_mention', user: 'U0JEFF', text: '<@U0BOTATHENA> ship <https://x.dev/a?b=1|the fix> &amp; tell <@U0CAROL>', ts: '1700000000.000100', channel: 'C1' }),
      ctx,
    )!;
    assert.deepEqual(e, {
      id: 'slack:C1:1700000000.000100',
      platform: 'slack',
      threadId: 'slack:T1:C1:1700000000.000100',
      author: { id: 'U0JEFF', name: 'jeff' },
      text: '@athena ship [the fix](https://x.dev/a?b=1) & tell <@U0CAROL>',
      receivedAt: new Date(1_700_000_000_000).toISOString(),
      bindingKey: 'slack:C1',
    });
  });

  it('the same message as `message` and as `app_mention`, from two apps, is one envelope', () => {
    const base = { user: 'U0JEFF', text: 'hey <@U0BOTAPOLLO>', ts: '1700000001.000200', thread_ts: '1700000000.000100', channel: 'C1' };
    const a = parseSlackPayload(event({ type: 'message', channel_type: 'channel', ...base }), { ...ctx, receiver: 'athena' });
    const b = parseSlackPayload(event({ type: 'app_mention', ...base }), { ...ctx, receiver: 'apollo' });
    assert.deepEqual(a, b);
    assert.equal(a!.threadId, 'slack:T1:C1:1700000000.000100');
    assert.equal(a!.text, 'hey @apollo');
  });

  it('a DM is addressed to the persona whose app got it and is one conversation', () => {
    const e = parseSlackPayload(event({ type: 'message', channel_type: 'im', user: 'U0JEFF', text: 'status?', ts: '5.1', channel: 'D1' }), { ...ctx, receiver: 'apollo' })!;
    assert.equal(e.directTo, 'apollo');
    assert.equal(e.threadId, 'slack:T1:D1');
  });

  it('bot messages are marked as bots (the ingress drops them); edits and joins are nothing', () => {
    const own = parseSlackPayload(event({ type: 'message', subtype: 'bot_message', bot_id: 'B1', user: 'U0BOTAPOLLO', text: 'on it', ts: '6.1', channel: 'C1' }), ctx)!;
    assert.equal(own.author.isBot, true);
    assert.equal(parseSlackPayload(event({ type: 'message', user: 'U0BOTAPOLLO', text: 'x', ts: '6.2', channel: 'C1' }), ctx)!.author.isBot, true);
    assert.equal(parseSlackPayload(event({ type: 'message', subtype: 'message_changed', ts: '6.3', channel: 'C1' }), ctx), null);
    assert.equal(parseSlackPayload(event({ type: 'message', subtype: 'channel_join', user: 'U0JEFF', ts: '6.4', channel: 'C1' }), ctx), null);
    assert.equal(parseSlackPayload(event({ type: 'reaction_added', user: 'U0JEFF' }), ctx), null);
  });

  it("a button click is `approve <id>` by the clicking user, in the card's thread", () => {
    const click = {
      type: 'block_actions',
      user: { id: 'U0JEFF', username: 'jeff' },
      team: { id: 'T1' },
      container: { type: 'message', channel_id: 'C1', message_ts: '7.5', thread_ts: '7.1' },
      message: { ts: '7.5', thread_ts: '7.1' },
      actions: [{ action_id: 'pantheon_approve', value: 'k7m2p', action_ts: '7.9' }],
    };
    const e = parseSlackPayload(click, { ...ctx, authorName: undefined })!;
    assert.equal(e.text, 'approve k7m2p');
    assert.deepEqual(e.author, { id: 'U0JEFF', name: 'jeff' });
    assert.equal(e.threadId, 'slack:T1:C1:7.1');
    const deny = parseSlackPayload({ ...click, actions: [{ action_id: 'pantheon_deny', value: 'k7m2p', action_ts: '8.0' }] }, ctx)!;
    assert.equal(deny.text, 'deny k7m2p');
    assert.notEqual(deny.id, e.id);
    assert.equal(parseSlackPayload({ ...click, actions: [{ action_id: 'someone_elses', value: 'x' }] }, ctx), null);
  });

  it('Slack markup to text', () => {
    assert.equal(fromSlackText('<!here> see <#C9|ops> &lt;b&gt;', personaByBotUser), '@here see #ops <b>');
    assert.equal(fromSlackText('<@U0BOTAPOLLO|apollo> and <https://a.b>', personaByBotUser), '@apollo and https://a.b');
  });
});

describe('markdown to mrkdwn', () => {
  it('converts emphasis, links, headings and lists, and escapes what Slack would read as markup', () => {
    assert.equal(toMrkdwn('**Done**: see [PR #4](https://gh.dev/o/r/pull/4), *really* ~~not~~'), '*Done*: see <https://gh.dev/o/r/pull/4|PR #4>, _really_ ~not~');
    assert.equal(toMrkdwn('# Plan\n- a < b & c\n- `x<y>`'), '*Plan*\n• a &lt; b &amp; c\n• `x&lt;y&gt;`');
    assert.equal(toMrkdwn('```ts\nconst a = **b**;\n```\nafter **bold**'), '```\nconst a = **b**;\n```\nafter *bold*');
    assert.equal(toMrkdwn('snake_case_name and _it_'), 'snake_case_name and _it_');
  });

  it('splits a long answer at the limit, each part within it', () => {
    const long = Array.from({ length: 400 }, (_, i) => `line ${i} of the report`).join('\n');
    const parts = formatForSlack(long, 1000);
    assert.ok(parts.length > 5);
    assert.ok(parts.every((p) => p.length <= 1000));
    assert.equal(parts.join('\n'), long);
  });
});

describe('approval cards as Block Kit', () => {
  it('has the title, the fields, approve/deny buttons with the id, and how to type it', () => {
    const blocks = approvalBlocks(card) as Array<Record<string, any>>;
    assert.match(blocks[0]!.text.text, /^\*Approval needed \[k7m2p\]: athena wants to run post_message\*$/);
    assert.deepEqual(
      blocks[1]!.fields.map((f: { text: string }) => f.text),
      ['*Tool*\npost_message', '*Arguments*\n{"text":"a &lt; b &amp; c"}'],
    );
    const actions = blocks.find((b) => b.type === 'actions')!;
    assert.deepEqual(
      actions.elements.map((b: Record<string, any>) => [b.action_id, b.value, b.text.text, b.style]),
      [
        ['pantheon_approve', 'k7m2p', 'Approve', 'primary'],
        ['pantheon_deny', 'k7m2p', 'Deny', 'danger'],
      ],
    );
    assert.match(JSON.stringify(blocks.at(-1)), /approve k7m2p/);
    for (const b of actions.elements) assert.equal(commandForAction(b), `${b.action_id === 'pantheon_approve' ? 'approve' : 'deny'} k7m2p`);
  });
});
