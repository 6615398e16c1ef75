/**
 * A fake Telegram Bot API server for tests: real grammY talks to it over HTTP
 * (`client.apiRoot`). See server.ts for the API.
 */
export { startFakeTelegram, type FakeTelegram, type FakeUser, type FakeChat, type SentMessage, type ApiCall } from './server.js';
export { parseTelegramHtml } from './html.js';
