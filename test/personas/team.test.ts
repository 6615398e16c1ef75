import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtInTeamDir, loadPersonas } from '../../core/config/load-personas.js';
import { PersonaRegistry } from '../../personas/registry.js';
// The platforms' sections of persona files and humans:, as `pantheon` registers them.
import '../../cli/platforms.js';

describe('the built-in sample team', () => {
  it('has the six personas with their roles, lenses and tools', async () => {
    const team = await loadPersonas({ env: {} });
    assert.equal(team.builtIn, true);
    assert.equal(team.dir, builtInTeamDir());
    const byId = new Map(team.personas.map((p) => [p.id, p]));
    const summary = Object.fromEntries([...byId].map(([id, p]) => [id, { role: p.role, tools: p.tools.join(','), login: p.github?.login }]));
    assert.deepEqual(summary, {
      athena: { role: 'pm', tools: 'github,memory,handoff,chat', login: 'athena-bot' },
      apollo: { role: 'developer', tools: 'github,workspace,memory,handoff', login: 'apollo-bot' },
      hermes: { role: 'developer', tools: 'github,workspace,memory,handoff', login: 'hermes-bot' },
      artemis: { role: 'reviewer', tools: 'github,memory,handoff', login: 'artemis-bot' },
      perseus: { role: 'reviewer', tools: 'github,memory,handoff', login: 'perseus-bot' },
      hephaestus: { role: 'ops', tools: 'infra,memory,handoff,chat', login: 'hephaestus-bot' },
    });
    assert.match(byId.get('artemis')!.lens!, /^infra/);
    assert.match(byId.get('artemis')!.lens!, /reliability.*performance.*deploys.*observability/);
    assert.equal(byId.get('perseus')!.lens, 'security');
  });

  it('gives every persona its own substantial prompt that names who it hands off to', async () => {
    const { personas } = await loadPersonas({ env: {} });
    const prompts = personas.map((p) => p.prompt);
    assert.equal(new Set(prompts).size, 6);
    for (const p of personas) {
      assert.ok(p.prompt.length > 600, `${p.id}'s prompt is too thin`);
      assert.match(p.prompt, new RegExp(`I am ${p.name}`));
      const others = personas.filter((o) => o.id !== p.id && p.prompt.includes(o.name));
      assert.ok(others.length >= 2, `${p.id}'s prompt should say whom it hands off to`);
    }
  });

  it('has no handles or GitHub tokens when their variables are unset, and picks them up when set', async () => {
    const bare = await loadPersonas({ env: {} });
    for (const p of bare.personas) {
      assert.deepEqual(p.handles, {}, p.id);
      assert.equal(p.github?.token, undefined);
    }
    const env = { APOLLO_MATTERMOST_TOKEN: 'mm-apollo', APOLLO_GITHUB_TOKEN: 'ghp-apollo', PERSEUS_SLACK_BOT_TOKEN: 'xoxb-perseus', PERSEUS_SLACK_APP_TOKEN: 'xapp-perseus' };
    const registry = new PersonaRegistry((await loadPersonas({ env })).personas);
    assert.deepEqual(registry.get('apollo')!.handles, { mattermost: { token: 'mm-apollo' } });
    assert.equal(registry.get('apollo')!.github?.token, 'ghp-apollo');
    assert.deepEqual(registry.get('perseus')!.handles, { slack: { botToken: 'xoxb-perseus', appToken: 'xapp-perseus' } });
  });
});
