/**
 * The tool runtime: tool groups per persona, the policy, the guard every call passes
 * through (approvals, audit, metrics), and the bridge to LangChain tools.
 */
export type { OutboxPort, PantheonTool, PersonaCredentials, RiskClass, ToolCall, ToolContext, ToolGroupFactory } from './types.js';
export { decide, type PolicyDecision } from './policy.js';
export { ToolGuard, type ToolGuardDeps, type ToolOutcome } from './guard.js';
export { toLangChainTool, toolCallFrom, CONFIGURABLE_CHANNEL, CONFIGURABLE_INBOUND, REASON_ARG } from './langchain.js';
export { buildPersonaTools, personaCredentials, type PersonaToolDeps } from './registry.js';
export { chatTools } from './chat/index.js';
export type { AuditSink } from './audit-sink.js';
