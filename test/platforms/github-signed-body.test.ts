import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { readSignedBody } from '../../platforms/github/signed-body.js';

const SECRET = 'whsec-unit';
const sign = (body: Buffer) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
/**
 * A request body arriving in chunks, as a socket delivers it. Chunks under the file stream's
 * high-water mark are written without waiting for 'drain', so a refusal finds writes in flight.
 */
const chunked = (body: Buffer, size = 65536) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
    })(),
  );
const spools = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('pantheon-webhook-')).length;

describe('readSignedBody', () => {
  it('answers a large correctly signed body whole, read back from its spool file', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 0x62);
    const got = await readSignedBody(chunked(body), { secret: SECRET, signature: sign(body), limitBytes: 8 * 1024 * 1024 });
    assert.ok(got.ok);
    assert.ok(got.ok && got.body.equals(body));
  });

  it('refuses a wrong signature and an oversized body while spool writes are still queued, without an unhandled stream error', async () => {
    const before = await spools();
    const body = Buffer.alloc(6 * 1024 * 1024, 0x61);
    // Many at once, so refusals land while the file streams still have writes in flight.
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2
          ? readSignedBody(chunked(body, 1024 * (1 + (i % 12))), { secret: SECRET, signature: `sha256=${'0'.repeat(64)}`, limitBytes: 8 * 1024 * 1024 })
          : readSignedBody(chunked(body, 1024 * (1 + (i % 12))), { secret: SECRET, signature: sign(body), limitBytes: 2 * 1024 * 1024 }),
      ),
    );
    assert.deepEqual(new Set(results.map((r) => (r.ok ? 'ok' : r.reason))), new Set(['bad_signature', 'too_large']));
    // Give destroyed streams' pending writes time to fail: an unhandled 'error' would fail this test.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await spools(), before, 'every spool directory is removed');
  });

  it('a request that ends with an error rejects and leaves no spool behind', async () => {
    const before = await spools();
    const broken = new Readable({ read() {} });
    broken.push(Buffer.alloc(512 * 1024, 0x63));
    setTimeout(() => broken.destroy(new Error('aborted')), 20);
    await assert.rejects(readSignedBody(broken, { secret: SECRET, signature: sign(Buffer.alloc(1)), limitBytes: 8 * 1024 * 1024 }), /aborted/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await spools(), before);
  });
});
