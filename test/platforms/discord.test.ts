import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { approvalComponents, parseCustomId } from '../../platforms/discord/cards.js';
import { DISCORD_MESSAGE_LIMIT, discordEditText, discordParts, toDiscordMarkdown } from '../../platforms/discord/format.js';
import { parseDiscordClick, parseDiscordMessage, type DiscordMessageIn } from '../../platforms/discord/parse.js';
import { decodeDiscordThreadId, encodeDiscordThreadId } from '../../platforms/discord/thread-id.js';
import { approvalCard } from '../../orchestrator/approvals/card.js';
import type { Approval } from '../../orchestrator/approvals/types.js';
import { assertThreadIdRoundTrip } from './thread-id-contract.js';

const bots: Record<string, string> = { '111': 'athena', '222': 'apollo' };
const personaOf = (id: string) => bots[id];
const message = (over: Partial<DiscordMessageIn> = {}): DiscordMessageIn => ({
  id: '900',
  guildId: '10',
  channelId: '20',
  channelName: 'general',
  author: { id: '555', username: 'jeff', displayName: 'Jeff', bot: false },
  content: 'hello',
  createdAt: '2025-01-01T00:00:00.000Z',
  receivedBy: 'athena',
  ...over,
});

describe('discord thread ids', () => {
  const codec = {
    name: 'discord',
    encodeThreadId: encodeDiscordThreadId,
    decodeThreadId: (id: string) => Object.fromEntries(Object.entries(decodeDiscordThreadId(id)).filter(([, v]) => v !== undefined)) as Record<string, string>,
  };

  it('pass the thread-id contract for guild channels, threads and DMs', () => {
    assertThreadIdRoundTrip(codec, [
      { guildId: '1234567890123456789', channelId: '9876543210987654321' },
      { dm: 'apollo', channelId: '42' },
      { guildId: 'odd:guild#1', channelId: 'a%b:c' },
    ]);
  });

  it('look like discord:<guild>:<channel> and discord:@<persona>:<channel>', () => {
    assert.equal(encodeDiscordThreadId({ guildId: '1', channelId: '2' }), 'discord:1:2');
    assert.equal(encodeDiscordThreadId({ dm: 'apollo', channelId: '2' }), 'discord:@apollo:2');
    assert.deepEqual(decodeDiscordThreadId('discord:@apollo:2'), { dm: 'apollo', channelId: '2' });
    assert.throws(() => decodeDiscordThreadId('mattermost:a:b'));
    assert.throws(() => encodeDiscordThreadId({ channelId: '2' }), /guildId/);
  });
});

describe('parseDiscordMessage', () => {
  it('turns a guild message into an envelope keyed by the message id, bound by channel name', () => {
    const e = parseDiscordMessage(message(), personaOf)!;
    assert.deepEqual(e, {
      id: 'discord:900',
      platform: 'discord',
      threadId: 'discord:10:20',
      bindingKey: 'discord:general',
      author: { id: '555', name: 'Jeff', isBot: false },
      text: 'hello',
      receivedAt: '2025-01-01T00:00:00.000Z',
    });
  });

  it('rewrites mentions of persona bots as @persona and leaves other mentions alone', () => {
    const e = parseDiscordMessage(message({ content: '<@222> and <@!111>, ask <@555> please' }), personaOf)!;
    assert.equal(e.text, '@apollo and @athena, ask <@555> please');
  });

  it('is the same envelope whichever bot heard it in a guild', () => {
    assert.deepEqual(parseDiscordMessage(message({ receivedBy: 'apollo' }), personaOf), parseDiscordMessage(message(), personaOf));
  });

  it('makes a DM a direct message to the bot that received it', () => {
    const e = parseDiscordMessage(message({ guildId: undefined, channelName: undefined, channelId: '77', receivedBy: 'apollo' }), personaOf)!;
    assert.equal(e.threadId, 'discord:@apollo:77');
    assert.equal(e.directTo, 'apollo');
    assert.equal(e.bindingKey, undefined);
  });

  it('ignores bots and empty messages', () => {
    assert.equal(parseDiscordMessage(message({ author: { id: '111', username: 'athena', bot: true } }), personaOf), null);
    assert.equal(parseDiscordMessage(message({ content: '   ' }), personaOf), null);
  });
});

describe('discord approval cards', () => {
  const approval: Approval = {
    id: 'k3x9',
    toolCallId: 'call-1',
    thread: 'discord:10:20',
    platform: 'discord',
    persona: 'hephaestus',
    tool: 'ssh_exec',
    risk: 'infra',
    args: { host: 'staging-1', command: 'systemctl restart api' },
    reason: 'restart the staging api',
    status: 'pending',
    requestedAt: new Date(),
    expiresAt: new Date(Date.now() + 3_600_000),
  };

  it('become one action row with approve:<id> and deny:<id> buttons', () => {
    const rows = approvalComponents(approvalCard(approval));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.type, 1);
    assert.deepEqual(
      rows[0]!.components.map((b) => [b.type, b.label, b.custom_id, b.style]),
      [
        [2, 'Approve', 'approve:k3x9', 3],
        [2, 'Deny', 'deny:k3x9', 4],
      ],
    );
  });

  it('a click reads as the typed answer, from the clicking user', () => {
    const e = parseDiscordClick({
      interactionId: '31',
      customId: 'deny:k3x9',
      guildId: '10',
      channelId: '20',
      channelName: 'ops',
      user: { id: '555', username: 'jeff' },
      createdAt: 'now',
      receivedBy: 'athena',
    })!;
    assert.equal(e.text, 'deny k3x9');
    assert.equal(e.id, 'discord:interaction:31');
    assert.equal(e.author.id, '555');
    assert.equal(e.threadId, 'discord:10:20');
    assert.equal(parseDiscordClick({ interactionId: '32', customId: 'something-else', channelId: '20', user: { id: '5', username: 'x' }, createdAt: 'now', receivedBy: 'athena' }), null);
    assert.equal(parseCustomId('approve:../x'), null);
  });
});

describe('discord formatting', () => {
  it('keeps native markdown and rewrites what Discord does not draw', () => {
    assert.equal(toDiscordMarkdown('**bold** _it_ `code`\n> quote\n# Title'), '**bold** _it_ `code`\n> quote\n# Title');
    assert.equal(toDiscordMarkdown('#### Deep heading'), '**Deep heading**');
    assert.equal(toDiscordMarkdown('see ![diagram](https://x.test/d.png)'), 'see [diagram](https://x.test/d.png)');
    assert.equal(toDiscordMarkdown('| a | b |\n| --- | --- |\n| 1 | 2 |\nafter'), '```\n| a | b |\n| 1 | 2 |\n```\nafter');
    assert.equal(toDiscordMarkdown('```\n#### not a heading\n```'), '```\n#### not a heading\n```');
  });

  it('splits at 2000 characters and trims an edit to its latest lines', () => {
    const long = Array.from({ length: 300 }, (_, i) => `line ${i} of the deploy log`).join('\n');
    const parts = discordParts(long);
    assert.ok(parts.length >= 4);
    for (const p of parts) assert.ok(p.length <= DISCORD_MESSAGE_LIMIT);
    const edited = discordEditText(long);
    assert.equal(edited.length, DISCORD_MESSAGE_LIMIT);
    assert.ok(edited.endsWith('line 299 of the deploy log'));
  });
});
