import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../../core/chat/types.js';
import { parseApprovalCommand } from '../../core/chat/approvals.js';
import { ChatCommands } from '../../orchestrator/commands.js';
import { approvalCommands } from '../../orchestrator/approvals/commands.js';

const envelope = (text: string): Envelope => ({
  id: 'in-1',
  platform: 'local',
  threadId: 'local:general',
  author: { id: 'jeff', name: 'jeff' },
  text,
  receivedAt: new Date(0).toISOString(),
});

describe('the chat-command registry', () => {
  const answered: Array<[string, string]> = [];
  const registry = () => {
    const commands = new ChatCommands();
    commands.register({ name: 'status', description: 'the work in flight', run: async () => 'all quiet' });
    commands.register({ name: 'new', aliases: ['reset'], description: 'a fresh context in this thread', run: async () => 'fresh' });
    commands.register({ name: 'cancel', args: '<job>', description: 'stop a running infra job', run: async (args) => `cancelled ${args}` });
    for (const c of approvalCommands({
      answer: async (cmd, e) => {
        answered.push([`${cmd.action} ${cmd.id}${cmd.note ? ` ${cmd.note}` : ''}`, e.id]);
        return 'decided';
      },
    })) {
      commands.register(c);
    }
    return commands;
  };

  test('slash commands, also /name@bot as Telegram sends them in groups; aliases; unknown slash words are chat', () => {
    const commands = registry();
    assert.equal(commands.match('/status')?.command.name, 'status');
    assert.equal(commands.match('  /STATUS@pantheon_bot ')?.command.name, 'status');
    assert.deepEqual(commands.match('/cancel j-1a2b\n')?.args, 'j-1a2b');
    assert.equal(commands.match('/reset')?.command.name, 'new');
    assert.equal(commands.match('/nosuch thing'), null);
    assert.equal(commands.match('status'), null, 'only bare commands work without the slash');
    assert.equal(commands.match('what is the status?'), null);
  });

  test('approve and deny are registry commands, with or without the slash, and only with an approval id', async () => {
    const commands = registry();
    for (const text of ['approve k7m2x', '/approve K7M2X', '/approve@pantheon_bot k7m2x', 'approve #k7m2x.', 'deny k7m2x not on a Friday', '/deny@PantheonBot k7m2x later']) {
      const matched = commands.match(text);
      assert.ok(matched, text);
      assert.equal(matched.command.name, parseApprovalCommand(text)!.action, text);
    }
    // Exactly what the approval parser takes (core/chat/approvals.ts), nothing more: the rest is chat for the team.
    for (const text of ['approve', 'approve this', 'approve it please', 'I approve k7m2x', 'please deny k7m2x', 'approvek7m2x', 'approve k7', '/approve this', 'deny\nk7m2x']) {
      assert.equal(commands.match(text), null, text);
      assert.equal(parseApprovalCommand(text), null, text);
    }
    const text = 'deny K7M2X not during the freeze';
    const matched = commands.match(text)!;
    assert.equal(await matched.command.run(matched.args, envelope(text)), 'decided');
    assert.deepEqual(answered.at(-1), ['deny k7m2x not during the freeze', 'in-1'], 'the desk gets the parsed command and the envelope');
  });

  test('a name or alias registered twice is refused', () => {
    const commands = registry();
    assert.throws(() => commands.register({ name: 'status', description: 'again', run: async () => '' }), /chat command \/status is registered twice/);
    assert.throws(() => commands.register({ name: 'fresh', aliases: ['reset'], description: 'again', run: async () => '' }), /chat command \/reset is registered twice/);
    assert.throws(() => commands.register({ name: 'approve', description: 'again', run: async () => '' }), /registered twice/);
  });

  test('/help lists every command, approve and deny included', async () => {
    const commands = registry();
    assert.deepEqual(
      commands.list().map((c) => c.name),
      ['help', 'status', 'new', 'cancel', 'approve', 'deny'],
    );
    const help = await commands.match('/help')!.command.run('', envelope('/help'));
    assert.match(help, /^Talk to a persona with @name/);
    for (const line of [
      '- /help — what you can ask here',
      '- /status — the work in flight',
      '- /cancel <job> — stop a running infra job',
      '- /approve <id> — approve a request (approvers only)',
      '- /deny <id> [reason] — deny a request (approvers only)',
    ]) {
      assert.ok(help.split('\n').includes(line), `${line}\n${help}`);
    }
  });
});
