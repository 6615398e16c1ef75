import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpolate, interpolateString } from '../../core/config/index.js';

describe('interpolateString', () => {
  const env = { A: 'alpha', EMPTY: '' };
  it('substitutes set variables and unset ones as empty', () => {
    assert.equal(interpolateString('x-${A}-${NOPE}-y', env), 'x-alpha--y');
  });
  it('uses the fallback when unset or empty', () => {
    assert.equal(interpolateString('${NOPE:-one}/${EMPTY:-two}/${A:-three}', env), 'one/two/alpha');
  });
  it('keeps $${VAR} as the literal ${VAR}', () => {
    assert.equal(interpolateString('cost: $${A} and ${A}', env), 'cost: ${A} and alpha');
  });
  it('leaves text that is not a variable reference alone', () => {
    assert.equal(interpolateString('${not a var} $A ${', env), '${not a var} $A ${');
  });
});

describe('interpolate', () => {
  it('removes fields that came out empty, and mappings left with nothing, and reports them', () => {
    const { value, emptied } = interpolate(
      { keep: 'literal', empty: '', handles: { slack: { botToken: '${X}', appToken: '${Y}' }, discord: { token: '${D}' } }, list: ['${X}', 'a'] },
      { D: 'discord-token' },
    );
    assert.deepEqual(value, { keep: 'literal', empty: '', handles: { discord: { token: 'discord-token' } }, list: ['a'] });
    assert.deepEqual(emptied.get('handles.slack'), ['X', 'Y']);
    assert.deepEqual(emptied.get('handles.slack.botToken'), ['X']);
  });
  it('never interpolates keys or non-strings', () => {
    const { value } = interpolate({ '${A}': 1, n: 2, b: true }, { A: 'x' });
    assert.deepEqual(value, { '${A}': 1, n: 2, b: true });
  });
});
