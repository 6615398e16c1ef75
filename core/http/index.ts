export { createHttpServer, listen, redactQuery, routesOf, type RegisteredRoute } from './server.js';
export { HttpError, sendError, type ErrorBody } from './errors.js';
export { consoleTokenPath, ensureConsoleToken, readConsoleToken } from './console-token.js';
