import { z } from 'zod';
import { registeredPlatforms } from '../../core/config/platforms.js';
import type { Persona } from '../../core/config/persona-schema.js';
import type { PantheonTool, ToolContext, ToolGroupFactory } from '../types.js';

/** Longest message a persona may post with one call (platform limits are the adapters' business). */
const MAX_TEXT_CHARS = 4000;

const postMessageSchema = z.object({
  conversation: z.string().min(1).describe('The conversation to post in, e.g. "release-planning" (same chat as this one)'),
  text: z.string().min(1).max(MAX_TEXT_CHARS).describe('The message to post, as you'),
});

/**
 * The `chat` tool group: posting as the persona to another conversation of the same chat,
 * and who is on the team. Posts go through the outbox keyed by the tool call id, so a run
 * replayed after a crash posts once.
 */
export function chatTools(opts: { team: readonly Pick<Persona, 'id' | 'name' | 'role' | 'description'>[] }): ToolGroupFactory {
  return (ctx: ToolContext): PantheonTool[] => [postMessage(ctx), listTeam(opts.team)];
}

function postMessage(ctx: ToolContext): PantheonTool<typeof postMessageSchema> {
  return {
    name: 'post_message',
    description: 'Post a message, as you, to another conversation of the chat this one is in. Returns a confirmation.',
    risk: 'write',
    schema: postMessageSchema,
    async run({ conversation, text }, call) {
      const target = threadIdIn(call.platform, conversation);
      if (typeof target !== 'string') return target.error;
      if (target === call.threadId) return 'Not posted: that is this conversation; just answer here.';
      const { queued } = await ctx.outbox.send({
        idempotencyKey: `tool:${call.threadId}:${call.id}`,
        platform: call.platform,
        threadId: target,
        role: 'agent',
        persona: ctx.persona.id,
        text,
      });
      return queued ? `Posted to ${target}.` : `Already posted to ${target} (this call was made before).`;
    },
  };
}

/** `conversation` as a thread id of `platform`: a bare name gets the prefix, another platform is refused. */
function threadIdIn(platform: string, conversation: string): string | { error: string } {
  const name = conversation.trim().replace(/^#/, '');
  const prefix = `${platform}:`;
  if (name.startsWith(prefix)) return name;
  const other = /^([a-z]+):/.exec(name);
  if (other && registeredPlatforms().some((p) => p.threadPrefix === other[1])) {
    return { error: `Not posted: ${conversation} is on ${other[1]}, and post_message only reaches conversations on ${platform}.` };
  }
  if (platform === 'local' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    return { error: `Not posted: "${conversation}" is not a conversation name (letters, digits, ".", "_", "-").` };
  }
  return `${prefix}${name}`;
}

function listTeam(team: readonly Pick<Persona, 'id' | 'name' | 'role' | 'description'>[]): PantheonTool {
  return {
    name: 'list_team',
    description: 'List the personas on the team: how to mention each, their role and what they do.',
    risk: 'read',
    schema: z.object({}),
    async run() {
      if (!team.length) return 'The team has no personas.';
      return team.map((p) => `@${p.id} (${p.name}, ${p.role}): ${p.description.trim()}`).join('\n');
    },
  };
}
