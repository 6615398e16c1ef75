import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { splitMessage } from '../../platforms/format/split.js';

describe('splitMessage', () => {
  it('keeps short messages whole', () => {
    assert.deepEqual(splitMessage('hello', 100), ['hello']);
  });
  it('splits at paragraph, line and word boundaries within the limit', () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i} with some words`).join('\n');
    const parts = splitMessage(text, 120);
    assert.ok(parts.length > 1);
    for (const p of parts) assert.ok(p.length <= 120, `part of ${p.length} chars`);
    assert.equal(parts.join('\n'), text);
  });
  it('closes and reopens a code fence cut in two', () => {
    const text = '```ts\n' + Array.from({ length: 40 }, (_, i) => `const x${i} = ${i};`).join('\n') + '\n```';
    const parts = splitMessage(text, 200);
    assert.ok(parts.length > 1);
    for (const p of parts) {
      assert.ok(p.length <= 200);
      assert.equal((p.match(/^```/gm) ?? []).length % 2, 0, `balanced fences in:\n${p}`);
    }
    assert.ok(parts[1]!.startsWith('```ts\n'));
  });
  it('cuts a word longer than the limit', () => {
    const parts = splitMessage('x'.repeat(250), 100);
    assert.equal(parts.join(''), 'x'.repeat(250));
    for (const p of parts) assert.ok(p.length <= 100);
  });
});
