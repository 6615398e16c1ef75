import { createHash } from 'node:crypto';

/** The longest tool name the model APIs take (OpenAI and Anthropic: `^[a-zA-Z0-9_-]{1,64}$`). */
const MAX_NAME = 64;

/**
 * The name an MCP server's tool has for the model and in policy entries: `mcp__<server>__<tool>`,
 * with every character the model APIs refuse replaced by `_`. A name that would be too long, or
 * that another tool of the same server already took once sanitised, ends in a short hash of the
 * original instead, so every tool keeps a stable name of its own.
 */
export function mcpToolName(server: string, tool: string, taken: ReadonlySet<string> = new Set()): string {
  const plain = `mcp__${server}__${tool.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (plain.length <= MAX_NAME && !taken.has(plain)) return plain;
  const hash = createHash('sha256').update(`${server}\0${tool}`).digest('hex').slice(0, 8);
  return `${plain.slice(0, MAX_NAME - hash.length - 1)}_${hash}`;
}

/** Names for all of a server's tools at once, in the order listed: unique within the server. */
export function mcpToolNames(server: string, tools: readonly string[]): Map<string, string> {
  const taken = new Set<string>();
  const names = new Map<string, string>();
  // Exact names first, so a tool whose name needs no change keeps it even if listed after a clash.
  const exact = new Set(tools.filter((t) => /^[A-Za-z0-9_-]+$/.test(t)));
  for (const tool of [...exact, ...tools.filter((t) => !exact.has(t))]) {
    if (names.has(tool)) continue;
    const name = mcpToolName(server, tool, taken);
    taken.add(name);
    names.set(tool, name);
  }
  return names;
}
