/**
 * A fake Slack workspace for tests: the Web API methods Pantheon uses, Socket Mode over a real
 * WebSocket, signed HTTP-mode delivery, and helpers to act as the humans in it. See server.ts.
 */
export { startFakeSlack, type Delivery, type FakeSlack, type FakeSlackCall, type FakeSlackMessage, type HttpTarget } from './server.js';
export { blockActions, eventCallback, type ButtonClick, type EventCallbackBody, type FakeSlackApp, type SlackEvent } from './payloads.js';
export { postSignedEvent, postSignedInteraction, signSlackRequest, type SignedPostOptions } from './sign.js';
