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

/**
 * The lines of a JSONL body as it arrives, without holding more than one line (and one network
 * chunk) at a time. A body over `maxBytes`, or a line over `maxLineBytes`, ends the iteration with
 * an ImportTooLargeError: neither can make the process hold it whole.
 */
export async function* streamLines(body: Readable, limits: { maxBytes: number; maxLineBytes: number }): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let total = 0;
  let partial = '';
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limits.maxBytes) throw new ImportTooLargeError(`the import is larger than its limit of ${limits.maxBytes} bytes`);
    const text = partial + decoder.write(chunk);
    const lines = text.split('\n');
    partial = lines.pop()!;
    if (partial.length > limits.maxLineBytes) throw new ImportTooLargeError(`a line of the import is longer than the limit of ${limits.maxLineBytes} bytes`);
    for (const line of lines) {
      if (line.length > limits.maxLineBytes) throw new ImportTooLargeError(`a line of the import is longer than the limit of ${limits.maxLineBytes} bytes`);
      yield line;
    }
  }
  const last = partial + decoder.end();
  if (last) yield last;
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
