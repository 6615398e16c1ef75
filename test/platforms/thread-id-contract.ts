import assert from 'node:assert/strict';
import type { PlatformAdapter } from '../../core/chat/types.js';

/**
 * The thread-id contract every adapter passes: ids carry the adapter's prefix, decode back to
 * the parts they were made of, and re-encode to the same string. Call it from each adapter's
 * tests with a few realistic part sets (including ones with `:` or `#` in a value).
 */
export function assertThreadIdRoundTrip(adapter: Pick<PlatformAdapter, 'name' | 'encodeThreadId' | 'decodeThreadId'>, samples: Array<Record<string, string>>): void {
  assert.ok(samples.length > 0, 'give the contract at least one sample');
  for (const parts of samples) {
    const id = adapter.encodeThreadId(parts);
    assert.ok(id.startsWith(`${adapter.name}:`), `${id} starts with "${adapter.name}:"`);
    const decoded = adapter.decodeThreadId(id);
    for (const [key, value] of Object.entries(parts)) {
      assert.equal(decoded[key], value, `${adapter.name}: part "${key}" survives ${id}`);
    }
    assert.equal(adapter.encodeThreadId(decoded), id, `${adapter.name}: ${id} re-encodes to itself`);
  }
  assert.throws(() => adapter.decodeThreadId('someoneelse:abc'), `${adapter.name} refuses a thread id of another platform`);
}
