import { StringDecoder } from 'node:string_decoder';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** An import body or one of its lines is over its limit. */
export class ImportTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportTooLargeError';
  }
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The lines of a JSONL body as it arrives, holding at most one line and one chunk of the body.
 * Lines are cut on the bytes (a newline byte never occurs inside a multi-byte UTF-8 character),
 * and only a line's own bytes are decoded: no string is ever built larger than a line, and no
 * chunk is kept or copied once read. A line ends with LF or CRLF; empty lines are yielded too
 * (as ''), so a caller counting lines counts the file's. A BOM at the start is dropped.
 * A body over `maxBytes`, or a line over `maxLineBytes` (its bytes without the line ending),
 * ends the iteration with an ImportTooLargeError naming the line by number, as soon as it is
 * seen: neither can make the process hold it whole.
 */
export async function* streamLines(body: AsyncIterable<Buffer | string>, limits: { maxBytes: number; maxLineBytes: number }): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let total = 0;
  let lineNo = 0;
  /** The current line as read from earlier chunks (decoded as they come: no chunk is kept). */
  let head = '';
  let headBytes = 0;
  const tooLong = () => new ImportTooLargeError(`line ${lineNo + 1} of the import is longer than the limit of ${limits.maxLineBytes} bytes for one memory`);
  const finish = (tail: string, tailBytes: number): string => {
    let text = head + tail;
    let bytes = headBytes + tailBytes;
    head = '';
    headBytes = 0;
    if (text.charCodeAt(text.length - 1) === CR) {
      text = text.slice(0, -1);
      bytes--;
    }
    if (bytes > limits.maxLineBytes) throw tooLong();
    return ++lineNo === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };
  for await (const data of body) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    total += chunk.length;
    if (total > limits.maxBytes) throw new ImportTooLargeError(`the import is larger than its limit of ${limits.maxBytes} bytes`);
    let start = 0;
    for (let nl = chunk.indexOf(LF); nl >= 0; nl = chunk.indexOf(LF, start)) {
      // The bytes before a newline complete any character the decoder holds the start of.
      const text = finish(headBytes > 0 ? decoder.end(chunk.subarray(start, nl)) : chunk.toString('utf8', start, nl), nl - start);
      start = nl + 1;
      yield text;
    }
    if (start < chunk.length) {
      head += decoder.write(chunk.subarray(start));
      headBytes += chunk.length - start;
      // A CR may yet turn out to be half of the line's CRLF.
      if (headBytes - (chunk[chunk.length - 1] === CR ? 1 : 0) > limits.maxLineBytes) throw tooLong();
    }
  }
  if (headBytes > 0) yield finish(decoder.end(), 0);
}

/**
 * Writes the body to a temporary file (owner-only) as it arrives, refusing it past `maxBytes`. An
 * import is stored more slowly than it arrives: taking the body at disk speed first keeps the
 * upload within the server's request timeout, and the file is then read a line at a time.
 */
export async function spoolBody(body: Readable, maxBytes: number): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pantheon-import-'));
  const path = join(dir, 'import.jsonl');
  const remove = () => rm(dir, { recursive: true, force: true });
  let total = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      done(total > maxBytes ? new ImportTooLargeError(`the import is larger than its limit of ${maxBytes} bytes`) : null, chunk);
    },
  });
  try {
    await pipeline(body, limit, createWriteStream(path, { mode: 0o600 }));
    return { path, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
