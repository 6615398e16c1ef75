import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PersonaRegistry } from '../../personas/registry.js';
import type { Persona } from '../../core/config/persona-schema.js';

function persona(id: string, name: string, login?: string): Persona {
  return { id, name, role: 'developer', description: 'd', prompt: 'p', tools: [], handles: {}, ...(login ? { github: { login } } : {}) };
}

const team = new PersonaRegistry([persona('athena', 'Athena', 'athena-bot'), persona('apollo', 'Apollo', 'apollo-bot'), persona('pallas', 'Pallas Athena'), persona('dev-2', 'Hermes')]);

describe('PersonaRegistry', () => {
  it('gets, lists and checks personas by id', () => {
    assert.equal(team.get('apollo')?.name, 'Apollo');
    assert.equal(team.get('zeus'), undefined);
    assert.equal(team.has('athena'), true);
    assert.equal(team.has('Athena'), false);
    assert.deepEqual(
      team.list().map((p) => p.id),
      ['athena', 'apollo', 'pallas', 'dev-2'],
    );
  });

  it('refuses duplicate ids', () => {
    assert.throws(() => new PersonaRegistry([persona('a', 'A'), persona('a', 'B')]), /duplicate persona id "a"/);
  });
});

describe('findMentions', () => {
  const cases: [string, string[]][] = [
    ['@athena we need rate limiting', ['athena']],
    ['ask @apollo and then @athena, then @apollo again', ['apollo', 'athena']],
    ['@ATHENA and @Apollo', ['athena', 'apollo']],
    ['by name: @hermes, by id: @dev-2', ['dev-2']],
    ['@pallas-athena and @PallasAthena', ['pallas']],
    ['review by @apollo-bot please', ['apollo']],
    ['(@apollo) "@athena" @apollo: @athena. @apollo\'s branch', ['apollo', 'athena']],
    ['mail apollo@athena.dev or athena@example.com', []],
    ['see https://example.com/@apollo and a.b@apollo', []],
    ['not words: x@apollo, @apollox, @athenas, @apollo_x', []],
    ['slack raw <@U0123> stays out, as does @@apollo', []],
    ['trailing hyphen @apollo- still counts', ['apollo']],
    ['@apollo\n@athena', ['apollo', 'athena']],
    ['', []],
  ];
  for (const [text, expected] of cases) {
    it(JSON.stringify(text), () => assert.deepEqual(team.findMentions(text), expected));
  }
});

describe('unknownMentions', () => {
  it('lists mentions that are neither personas nor known humans, nor @here/@channel', () => {
    assert.deepEqual(team.unknownMentions('@zeus can you ask @apollo and @Jeff, cc @here @channel @zeus @Hera', ['jeff']), ['zeus', 'hera']);
  });
  it('is empty when everyone is known', () => {
    assert.deepEqual(team.unknownMentions('@athena tell @jeff', ['Jeff']), []);
  });
});
