import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Bodies up to this size are held in memory while they are checked; larger ones go to a temporary file. */
const IN_MEMORY_BYTES = 256 * 1024;

export type SignedBody = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'bad_signature' };

/**
 * Reads a webhook body through its HMAC (`sha256=<hex>`, GitHub's `X-Hub-Signature-256`) so that
 * an unverified sender never makes the process hold a large body: past IN_MEMORY_BYTES the bytes
 * go to a temporary file, which is read back only once the signature matched, and removed either way.
 */
export async function readSignedBody(stream: Readable, opts: { secret: string; signature: string; limitBytes: number }): Promise<SignedBody> {
  const hmac = createHmac('sha256', opts.secret);
  const chunks: Buffer[] = [];
  let size = 0;
  let spool: { dir: string; file: WriteStream } | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > opts.limitBytes) return { ok: false, reason: 'too_large' };
      hmac.update(chunk);
      if (!spool && size > IN_MEMORY_BYTES) {
        const dir = await mkdtemp(join(tmpdir(), 'pantheon-webhook-'));
        const file = createWriteStream(join(dir, 'body'), { mode: 0o600 });
        // A refusal destroys the file with writes still queued, and those then fail with
        // ERR_STREAM_DESTROYED: without a listener that error would end the process.
        file.on('error', () => {});
        spool = { dir, file };
        for (const c of chunks.splice(0)) spool.file.write(c);
      }
      if (spool) {
        // `once` rejects on 'error' (e.g. a full disk), so a failed write cannot leave this waiting.
        if (!spool.file.write(chunk)) await once(spool.file, 'drain');
      } else {
        chunks.push(chunk);
      }
    }
    if (!signatureMatches(hmac.digest(), opts.signature)) return { ok: false, reason: 'bad_signature' };
    if (!spool) return { ok: true, body: Buffer.concat(chunks) };
    spool.file.end();
    await finished(spool.file);
    return { ok: true, body: await readFile(join(spool.dir, 'body')) };
  } finally {
    if (spool) {
      spool.file.destroy();
      await rm(spool.dir, { recursive: true, force: true });
    }
  }
}

/**
 * True when `signature` (`X-Hub-Signature-256`, `sha256=<hex>`) is the HMAC of `rawBody` under
 * `secret`. The raw bytes are what GitHub signed: re-serialised JSON would not match.
 */
export async function verifyGitHubSignature(secret: string, rawBody: Buffer | string, signature: string | undefined): Promise<boolean> {
  if (!secret || !signature || !rawBody.length) return false;
  return signatureMatches(createHmac('sha256', secret).update(rawBody).digest(), signature);
}

function signatureMatches(expected: Buffer, signature: string): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature);
  return !!match && timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}
