/** The tool contract lives in core/tools (below channels and memory); re-exported for the tool groups. */
export type { LiveToolGroup, PantheonTool, PersonaCredentials, ToolCall, ToolContext, ToolGroupFactory } from '../core/tools/types.js';
/** Tools post through the outbox port of core/chat. */
export type { OutboxPort } from '../core/chat/outbox.js';
