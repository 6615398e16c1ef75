/** An expected failure of a command (nothing to read there, no server): one line with the fix, exit 1, no stack. */
export class CommandError extends Error {
  override name = 'CommandError';
}
