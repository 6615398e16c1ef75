/**
 * A fake Discord: REST API v10 and gateway over real HTTP/WebSocket on 127.0.0.1, good enough
 * for the real discord.js Client. Point discord.js at it with `rest: { api: fake.apiUrl }`;
 * `GET /gateway/bot` hands out the fake gateway. See server.ts for the test controls.
 */
export { startFakeDiscord, type FakeDiscord } from './server.js';
export type { RecordedPost, RateLimitRule, RestLog } from './rest.js';
export type { FakeBot, FakeChannel, FakeUser } from './state.js';
