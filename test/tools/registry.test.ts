import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPersonas } from '../../core/config/load-personas.js';
import type { Persona } from '../../core/config/persona-schema.js';
import { buildPersonaTools } from '../../tools/registry.js';
import type { PantheonTool, ToolCall, ToolContext } from '../../tools/types.js';
import { RecordingOutbox } from './recording-outbox.js';
// The platforms' sections of persona files and humans:, as `pantheon` registers them.
import '../../cli/platforms.js';

const APOLLO_GH = 'ghp_apolloAAAAAAAAAAAAAAAAAAAAAAAA';
const HERMES_GH = 'ghp_hermesBBBBBBBBBBBBBBBBBBBBBBBB';
const ENV_GH = 'ghp_environmentCCCCCCCCCCCCCCCCCCC';
const env = {
  APOLLO_GITHUB_TOKEN: APOLLO_GH,
  APOLLO_SLACK_BOT_TOKEN: 'xoxb-apollo-slack',
  APOLLO_MATTERMOST_TOKEN: 'apollo-mm-token',
  HERMES_GITHUB_TOKEN: HERMES_GH,
  HERMES_SLACK_BOT_TOKEN: 'xoxb-hermes-slack',
  HERMES_DISCORD_TOKEN: 'hermes-discord-token',
  GITHUB_TOKEN: ENV_GH,
};

/** A github group stand-in that keeps the context each persona's tools were built with. */
function capturingGroup(seen: Map<string, ToolContext>) {
  return (ctx: ToolContext): PantheonTool[] => {
    seen.set(ctx.persona.id, ctx);
    return [];
  };
}

describe('buildPersonaTools', () => {
  let team: Persona[];
  const saved = process.env.GITHUB_TOKEN;
  beforeEach(async () => {
    process.env.GITHUB_TOKEN = ENV_GH;
    ({ personas: team } = await loadPersonas({ env }));
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.GITHUB_TOKEN;
    else process.env.GITHUB_TOKEN = saved;
  });
  const persona = (id: string) => team.find((p) => p.id === id)!;

  test("each persona's tools get that persona's credentials and nobody else's", () => {
    const seen = new Map<string, ToolContext>();
    const outbox = new RecordingOutbox();
    for (const p of team) buildPersonaTools(p, { outbox, team, groups: { github: capturingGroup(seen) } });

    const apollo = seen.get('apollo')!;
    assert.equal(apollo.credentials.githubToken, APOLLO_GH);
    assert.deepEqual(apollo.credentials.chat, { slack: 'xoxb-apollo-slack', mattermost: 'apollo-mm-token' });
    const apolloJson = JSON.stringify(apollo);
    for (const other of [HERMES_GH, 'xoxb-hermes-slack', 'hermes-discord-token', ENV_GH]) {
      assert.ok(!apolloJson.includes(other), `apollo's context must not contain ${other}`);
    }
    const hermes = seen.get('hermes')!;
    assert.equal(hermes.credentials.githubToken, HERMES_GH);
    assert.deepEqual(hermes.credentials.chat, { slack: 'xoxb-hermes-slack', discord: 'hermes-discord-token' });
    assert.ok(!JSON.stringify(hermes).includes(APOLLO_GH));
    assert.equal(hermes.outbox, outbox);
  });

  test('a persona without a GitHub token gets none, even with GITHUB_TOKEN in the environment', () => {
    const seen = new Map<string, ToolContext>();
    buildPersonaTools(persona('athena'), { outbox: new RecordingOutbox(), team, groups: { github: capturingGroup(seen) } });
    const athena = seen.get('athena')!;
    assert.equal(athena.credentials.githubToken, undefined);
    assert.deepEqual(athena.credentials.chat, {});
    assert.ok(!JSON.stringify(athena).includes(ENV_GH));
  });

  test('groups not built yet are reported missing; handoff belongs to the graph', () => {
    const athena = buildPersonaTools(persona('athena'), { outbox: new RecordingOutbox(), team });
    assert.deepEqual(
      athena.tools.map((t) => t.name),
      ['post_message', 'list_team'],
    );
    assert.deepEqual(athena.missing, ['github', 'memory']);
    const apollo = buildPersonaTools(persona('apollo'), { outbox: new RecordingOutbox(), team, groups: { github: () => [] } });
    assert.deepEqual(apollo.missing, ['workspace', 'memory']);
  });

  test('two groups defining the same tool name is an error naming both', () => {
    const dup = (): PantheonTool[] => [{ name: 'post_message', description: 'x', risk: 'read', schema: undefined as never, run: async () => '' }];
    assert.throws(
      () => buildPersonaTools(persona('athena'), { outbox: new RecordingOutbox(), team, groups: { github: dup } }),
      /"post_message" is defined by both the github and the chat tool groups/,
    );
  });
});

describe('chat tools', () => {
  const call: ToolCall = { id: 'call_post_1', threadId: 'local:general', platform: 'local', persona: 'athena', runId: 'run-1', inboundId: 'in-1' };

  async function athenaTools() {
    const { personas: team } = await loadPersonas({ env: {} });
    const outbox = new RecordingOutbox();
    const { tools } = buildPersonaTools(team.find((p) => p.id === 'athena')!, { outbox, team });
    const byName = (name: string) => tools.find((t) => t.name === name)!;
    return { outbox, post: byName('post_message'), list: byName('list_team') };
  }

  test('post_message posts as the persona to another conversation of the same chat, once per tool call', async () => {
    const { outbox, post } = await athenaTools();
    assert.equal(post.risk, 'write');
    const args = post.schema.parse({ conversation: 'release-planning', text: 'Release is on Thursday.' });
    assert.equal(await post.run(args, call), 'Posted to local:release-planning.');
    assert.deepEqual(outbox.sent, [
      {
        idempotencyKey: `tool:${call.threadId}:call_post_1`,
        platform: 'local',
        threadId: 'local:release-planning',
        role: 'agent',
        persona: 'athena',
        text: 'Release is on Thursday.',
      },
    ]);
    // The same call again (a run replayed after a crash) posts nothing new.
    assert.match(await post.run(args, call), /Already posted to local:release-planning/);
    assert.equal(outbox.sent.length, 1);
  });

  test('post_message refuses other platforms, this conversation and malformed names', async () => {
    const { outbox, post } = await athenaTools();
    assert.match(await post.run({ conversation: 'slack:C123', text: 'hi' }, { ...call, id: 'c2' }), /^Not posted: slack:C123 is on slack/);
    assert.match(await post.run({ conversation: 'general', text: 'hi' }, { ...call, id: 'c3' }), /^Not posted: that is this conversation/);
    assert.match(await post.run({ conversation: 'bad name!', text: 'hi' }, { ...call, id: 'c4' }), /^Not posted: "bad name!" is not a conversation name/);
    assert.equal(outbox.sent.length, 0);
    assert.equal(await post.run({ conversation: 'local:ops', text: 'hi' }, { ...call, id: 'c5' }), 'Posted to local:ops.');
  });

  test('list_team lists every persona with how to mention them', async () => {
    const { list } = await athenaTools();
    assert.equal(list.risk, 'read');
    const roster = await list.run({}, call);
    assert.deepEqual(
      roster.split('\n').map((l) => l.split(' ')[0]),
      ['@apollo', '@artemis', '@athena', '@hephaestus', '@hermes', '@perseus'],
    );
    assert.match(roster, /@apollo \(Apollo, developer\): Full-stack developer/);
  });
});
