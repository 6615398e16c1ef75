import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { ImportTooLargeError, spoolBody, streamLines } from '../../memory/import-lines.js';

const LIMITS = { maxBytes: 1024 * 1024, maxLineBytes: 1024 };

/** Every line streamLines yields for a body that arrives in these chunks. */
async function lines(chunks: (Buffer | string)[], limits = LIMITS): Promise<string[]> {
  const out: string[] = [];
  for await (const line of streamLines(Readable.from(chunks), limits)) out.push(line);
  return out;
}

/** The body cut into chunks of `size` bytes (a multi-byte character may be cut anywhere). */
function chunked(body: string | Buffer, size: number): Buffer[] {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('streamLines', () => {
  test('a line cut across chunks, at every place and in every chunk size, comes out whole', async () => {
    const body = '{"content":"first"}\n{"content":"second, longer"}\nthird\n';
    for (let size = 1; size <= body.length; size++) {
      assert.deepEqual(await lines(chunked(body, size)), ['{"content":"first"}', '{"content":"second, longer"}', 'third'], `chunks of ${size}`);
    }
    // One line over many chunks.
    const long = 'x'.repeat(1000);
    assert.deepEqual(await lines([...chunked(long, 7), '\n', 'y']), [long, 'y']);
  });

  test('CRLF line endings are taken off; a CR inside a line stays', async () => {
    assert.deepEqual(await lines(['a\r\nb\r\n', 'c\r', '\nd\re\r\n']), ['a', 'b', 'c', 'd\re']);
    // The CR and the LF in different chunks.
    assert.deepEqual(await lines(['one\r', '\ntwo\r', '\n']), ['one', 'two']);
  });

  test('a last line without a newline is read; a body ending in a newline has no extra empty line', async () => {
    assert.deepEqual(await lines(['a\nb']), ['a', 'b']);
    assert.deepEqual(await lines(['a\nb\n']), ['a', 'b']);
    assert.deepEqual(await lines(['a\nb\r\n']), ['a', 'b']);
    assert.deepEqual(await lines(['no newline at all']), ['no newline at all']);
    assert.deepEqual(await lines([]), []);
    assert.deepEqual(await lines(['']), []);
  });

  test("empty lines are yielded (as empty strings), so line numbers are the file's", async () => {
    assert.deepEqual(await lines(['a\n\n', '\r\nb\n\n']), ['a', '', '', 'b', '']);
    assert.deepEqual(await lines(['\n']), ['']);
  });

  test('multi-byte UTF-8 characters cut across chunks are decoded whole', async () => {
    const body = Buffer.from('é€😀中\nzweite Zeile: Grüße 👋🏽\n');
    for (let size = 1; size <= 8; size++) {
      assert.deepEqual(await lines(chunked(body, size)), ['é€😀中', 'zweite Zeile: Grüße 👋🏽'], `chunks of ${size}`);
    }
    // A character cut in a line that then runs over several more chunks.
    const euro = Buffer.from('€');
    assert.deepEqual(await lines([Buffer.from('a'), euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2), Buffer.from('b\n')]), ['a€b']);
  });

  test('a BOM at the start of the body is dropped, one further on is kept', async () => {
    assert.deepEqual(await lines(['\uFEFF{"a":1}\n\uFEFFx\n']), ['{"a":1}', '\uFEFFx']);
    const bom = Buffer.from('\uFEFFok\n');
    assert.deepEqual(await lines(chunked(bom, 1)), ['ok']);
  });

  test('string chunks are read like bytes', async () => {
    assert.deepEqual(await lines(['a\nb', 'c\n']), ['a', 'bc']);
  });

  test('a line over the limit is refused with an error naming it; the line ending does not count', async () => {
    const limits = { maxBytes: 1024, maxLineBytes: 10 };
    assert.deepEqual(await lines(['1234567890\n', '1234567890\r\n', '1234567890'], limits), ['1234567890', '1234567890', '1234567890']);
    await assert.rejects(lines(['ok\n', '\n', '12345678901\n'], limits), (err: Error) => {
      assert.ok(err instanceof ImportTooLargeError);
      assert.equal(err.message, 'line 3 of the import is longer than the limit of 10 bytes for one memory');
      return true;
    });
    // The limit is in bytes, not characters: 4 euro signs are 12 bytes.
    await assert.rejects(lines(['€€€€\n'], limits), /line 1 of the import is longer than the limit of 10 bytes/);
    // Cut across chunks, and as the last line without a newline.
    await assert.rejects(lines(['a\n12345', '678', '901\n'], limits), /line 2 of the import is longer/);
    await assert.rejects(lines(['a\nb\n12345678901'], limits), /line 3 of the import is longer/);
  });

  test('an over-long line is refused as soon as it is, not when (or if) its newline comes', async () => {
    let sent = 0;
    // A body that never sends a newline: reading it whole would never end.
    const endless = new Readable({
      read() {
        sent += 1000;
        this.push(Buffer.alloc(1000, 0x61));
      },
    });
    await assert.rejects(
      (async () => {
        for await (const _ of streamLines(endless, { maxBytes: 1e9, maxLineBytes: 5000 })) {
          /* nothing */
        }
      })(),
      /line 1 of the import is longer than the limit of 5000 bytes/,
    );
    assert.ok(sent <= 7000, `stopped after ${sent} bytes`);
  });

  test('a body over its limit is refused with an ImportTooLargeError; the lines before it were read', async () => {
    const limits = { maxBytes: 20, maxLineBytes: 100 };
    assert.deepEqual(await lines(['0123456789\n', '01234567\n'], limits), ['0123456789', '01234567'], 'exactly the limit is fine');
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const line of streamLines(Readable.from(['0123456789\n', '0123456789\n']), limits)) seen.push(line);
      })(),
      (err: Error) => {
        assert.ok(err instanceof ImportTooLargeError);
        assert.equal(err.message, 'the import is larger than its limit of 20 bytes');
        return true;
      },
    );
    assert.deepEqual(seen, ['0123456789']);
  });
});

describe('spoolBody', () => {
  test('writes the body to an owner-only file, removed on request', async () => {
    const spooled = await spoolBody(Readable.from(['a\n', Buffer.from('b\n')]), 100);
    try {
      assert.equal(readFileSync(spooled.path, 'utf8'), 'a\nb\n');
      assert.equal(statSync(spooled.path).mode & 0o777, 0o600);
    } finally {
      await spooled.remove();
    }
    assert.equal(existsSync(dirname(spooled.path)), false);
  });

  test('a body over its limit is refused', async () => {
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 100; i++) yield Buffer.alloc(10, 0x61);
      })(),
    );
    await assert.rejects(spoolBody(body, 500), (err: Error) => {
      assert.ok(err instanceof ImportTooLargeError);
      assert.equal(err.message, 'the import is larger than its limit of 500 bytes');
      return true;
    });
  });
});
