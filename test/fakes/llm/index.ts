/**
 * A scripted model server speaking the OpenAI (chat completions, responses, embeddings) and
 * Anthropic (messages) wires over real HTTP, so the real SDKs and LangChain models
 * can be tested without a network. See server.ts for the API.
 */
export { startFakeLLM, type FakeLLM } from './server.js';
export { echoResponder, fixedResponder } from './script.js';
export { fakeEmbedding } from './openai-wire.js';
export { QUIRKS, type FakeLLMRequest, type FakeMessage, type Quirk, type Responder, type ScriptedResponse, type ScriptedToolCall, type Wire } from './types.js';
