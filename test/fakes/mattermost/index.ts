/**
 * A fake Mattermost server (REST API v4 + WebSocket) for tests: the real `@mattermost/client`
 * and Pantheon's Mattermost adapter talk to it over real HTTP and WebSocket. See server.ts.
 */
export { startFakeMattermost, type FakeMattermost } from './server.js';
export type { ActionRecord } from './routes.js';
export type { TypingRecord } from './hub.js';
export type { FakeChannel, FakePost, FakeUser } from './world.js';
