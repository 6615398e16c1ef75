import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, Update } from 'grammy/types';
import { TelegramAdapter } from '../../platforms/telegram/adapter.js';
import { callbackData, parseCallbackData, renderApprovalCard } from '../../platforms/telegram/cards.js';
import { markdownToHtml, telegramParts, TELEGRAM_TEXT_LIMIT } from '../../platforms/telegram/format.js';
import { envelopeFromUpdate, rewriteText } from '../../platforms/telegram/parse.js';
import { telegramMenu } from '../../platforms/telegram/menu.js';
import { createLogger } from '../../core/log.js';
import type { ApprovalCard } from '../../core/chat/types.js';
import { parseTelegramHtml } from '../fakes/telegram/index.js';
import { assertThreadIdRoundTrip } from './thread-id-contract.js';

const jeff = { id: 111, is_bot: false, first_name: 'Jeff', username: 'jeff' };
const message = (over: Partial<Message> & Record<string, unknown> = {}): Message =>
  ({ message_id: 7, date: 1_700_000_000, chat: { id: 111, type: 'private', first_name: 'Jeff' }, from: jeff, text: 'hello', ...over }) as Message;
const visible = (html: string) => {
  const parsed = parseTelegramHtml(html);
  assert.ok(parsed.ok, `Telegram would refuse: ${!parsed.ok && parsed.error}\n${html}`);
  return parsed.text;
};

describe('telegram: thread ids', () => {
  it('passes the thread-id contract for chats, groups and forum topics', () => {
    const adapter = new TelegramAdapter({ api: {} as never, personaName: (id) => id, logger: createLogger({ level: 'silent' }) });
    assertThreadIdRoundTrip(adapter, [{ chatId: '111' }, { chatId: '-1001234567890' }, { chatId: '-1001234567890', topicId: '42' }]);
    assert.throws(() => adapter.encodeThreadId({ chatId: 'abc' }));
    assert.throws(() => adapter.decodeThreadId('telegram:12:x'));
  });
});

describe('telegram: update → envelope', () => {
  it('a private message: prefixed ids, the numeric user id as author, the chat as binding key', () => {
    const e = envelopeFromUpdate({ update_id: 1, message: message() } as Update)!;
    assert.deepEqual(e, {
      id: 'telegram:msg:111:7',
      platform: 'telegram',
      threadId: 'telegram:111',
      author: { id: '111', name: 'jeff' },
      text: 'hello',
      receivedAt: new Date(1_700_000_000_000).toISOString(),
      bindingKey: 'telegram:111',
    });
  });

  it('a forum topic is its own thread; a reply chain in a plain group is not', () => {
    const group = { id: -1005, type: 'supergroup', title: 'ops' };
    const topic = envelopeFromUpdate({ update_id: 2, message: message({ chat: group as never, message_thread_id: 9, is_topic_message: true }) } as Update)!;
    assert.equal(topic.threadId, 'telegram:-1005:9');
    assert.equal(topic.bindingKey, 'telegram:-1005');
    const reply = envelopeFromUpdate({ update_id: 3, message: message({ chat: group as never, message_thread_id: 9 }) } as Update)!;
    assert.equal(reply.threadId, 'telegram:-1005');
  });

  it('/ask <persona> <text> addresses that persona; other commands pass through as typed', () => {
    assert.equal(rewriteText('/ask apollo fix the login bug'), '@apollo fix the login bug');
    assert.equal(rewriteText('/ask@pantheon_bot Hephaestus: restart staging'), '@hephaestus restart staging');
    assert.equal(rewriteText('/ask @athena'), '@athena');
    assert.equal(rewriteText('/status'), '/status');
    assert.equal(rewriteText('/approve ab12'), '/approve ab12');
    assert.equal(rewriteText('/cancel J-3'), '/cancel J-3');
    const e = envelopeFromUpdate({ update_id: 4, message: message({ text: '/ask apollo what broke?' }) } as Update, { botUsername: 'pantheon_bot' })!;
    assert.equal(e.text, '@apollo what broke?');
  });

  it('a mention of the bot itself is dropped (it is the orchestrator, not a persona)', () => {
    assert.equal(rewriteText("@pantheon_bot what's in flight?", 'pantheon_bot'), "what's in flight?");
    assert.equal(rewriteText('ping @Pantheon_Bot, status?', 'pantheon_bot'), 'ping status?');
    assert.equal(rewriteText('@apollo hi', 'pantheon_bot'), '@apollo hi');
  });

  it('a button click becomes the typed command, authored by the clicking user', () => {
    const update = {
      update_id: 5,
      callback_query: {
        id: 'cb1',
        from: { id: 222, is_bot: false, first_name: 'Carol' },
        chat_instance: 'x',
        data: 'approve:k3v9q2',
        message: message({ chat: { id: -1005, type: 'supergroup', title: 'ops' } as never }),
      },
    } as Update;
    const e = envelopeFromUpdate(update)!;
    assert.equal(e.id, 'telegram:callback:cb1');
    assert.equal(e.text, 'approve k3v9q2');
    assert.deepEqual(e.author, { id: '222', name: 'Carol' });
    assert.equal(e.threadId, 'telegram:-1005');
    assert.equal(envelopeFromUpdate({ ...update, callback_query: { ...update.callback_query!, data: 'something-else' } } as Update), null);
  });

  it('ignores updates without text or author; marks bots', () => {
    assert.equal(envelopeFromUpdate({ update_id: 6, message: message({ text: undefined }) } as Update), null);
    assert.equal(envelopeFromUpdate({ update_id: 7, message: message({ from: undefined }) } as Update), null);
    assert.equal(envelopeFromUpdate({ update_id: 8, message: message({ from: { ...jeff, is_bot: true } }) } as Update)!.author.isBot, true);
    assert.equal(envelopeFromUpdate({ update_id: 9, edited_message: message() } as Update), null);
  });
});

describe('telegram: the command menu', () => {
  const run = async () => '';
  it("is every registry command with its description (arguments first), then the adapter's own /ask", () => {
    assert.deepEqual(
      telegramMenu([
        { name: 'status', description: 'the work in flight', run },
        { name: 'approve', args: '<id>', description: 'approve a request', bare: true, run },
      ]),
      [
        { command: 'status', description: 'the work in flight' },
        { command: 'approve', description: '<id>: approve a request' },
        { command: 'ask', description: '<persona> <text>: ask one persona' },
      ],
    );
  });

  it('leaves out a name Telegram would refuse (it would refuse the whole menu) and clips long descriptions', () => {
    const menu = telegramMenu([
      { name: 'dry-run', description: 'typed, not picked', run },
      { name: 'long', description: 'x'.repeat(300), run },
    ]);
    assert.deepEqual(
      menu.map((c) => c.command),
      ['long', 'ask'],
    );
    assert.equal(menu[0]!.description.length, 256);
  });
});

describe('telegram: markdown → HTML', () => {
  it('renders emphasis, code, links, headings and bullets; escapes everything else', () => {
    const html = markdownToHtml('# Plan\n**bold** and *it* and _it2_ and ~~old~~, `a<b>` and [docs](https://x.dev/?a=1&b=2)\n- one\n- two <script>');
    assert.equal(html, '<b>Plan</b>\n<b>bold</b> and <i>it</i> and <i>it2</i> and <s>old</s>, <code>a&lt;b&gt;</code> and <a href="https://x.dev/?a=1&amp;b=2">docs</a>\n• one\n• two &lt;script&gt;');
    visible(html);
  });

  it('keeps snake_case and arithmetic alone; fenced code is not interpreted', () => {
    assert.equal(markdownToHtml('use max_retry_count, 2*3*4'), 'use max_retry_count, 2*3*4');
    const html = markdownToHtml('Run:\n```sh\necho **not bold** <x> & y\n```\ndone');
    assert.equal(html, 'Run:\n<pre><code class="language-sh">echo **not bold** &lt;x&gt; &amp; y</code></pre>\ndone');
    visible(html);
  });

  it('labels the first part with the persona and splits long text under 4,096 visible characters', () => {
    const long = Array.from({ length: 700 }, (_, i) => `line ${i}: **ok** & <fine>`).join('\n');
    const parts = telegramParts(long, 'Apollo');
    assert.ok(parts.length >= 5, `${parts.length} parts`);
    assert.ok(parts[0]!.startsWith('<b>Apollo</b>: '));
    assert.ok(!parts[1]!.includes('Apollo'));
    for (const p of parts) assert.ok(visible(p).length <= TELEGRAM_TEXT_LIMIT, `${visible(p).length} visible characters`);
    assert.equal(parts.map((p) => visible(p).replace(/^Apollo: /, '')).join('\n'), long.replace(/\*\*/g, ''));
  });
});

describe('telegram: approval cards', () => {
  const card: ApprovalCard = {
    approvalId: 'k3v9q2',
    title: 'Approval needed [k3v9q2]: hephaestus wants to run ssh_run',
    fields: [
      { label: 'Tool', value: 'ssh_run' },
      { label: 'Arguments', value: '{"command":"systemctl restart api && echo <ok>"}' },
    ],
    actions: [
      { id: 'approve', label: 'Approve' },
      { id: 'deny', label: 'Deny' },
    ],
    fallbackText: 'Answer "approve k3v9q2" or "deny k3v9q2".',
  };

  it('draws an inline keyboard whose buttons carry approve:<id> / deny:<id>', () => {
    const drawn = renderApprovalCard(card);
    assert.deepEqual(drawn.replyMarkup, {
      inline_keyboard: [
        [
          { text: 'Approve', callback_data: 'approve:k3v9q2' },
          { text: 'Deny', callback_data: 'deny:k3v9q2' },
        ],
      ],
    });
    const text = visible(drawn.html);
    assert.match(text, /Approval needed \[k3v9q2\]/);
    assert.match(text, /systemctl restart api && echo <ok>/);
    assert.match(text, /\/approve k3v9q2/);
  });

  it('callback data round-trips and refuses what is not ours', () => {
    assert.deepEqual(parseCallbackData(callbackData('deny', 'ab12')), { action: 'deny', approvalId: 'ab12' });
    assert.equal(parseCallbackData('approve:'), null);
    assert.equal(parseCallbackData('approve:../x'), null);
    assert.equal(parseCallbackData('vote:1'), null);
  });
});
