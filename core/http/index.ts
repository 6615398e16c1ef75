export { createHttpServer, listen, redactQuery, routesOf, type HttpServerOptions, type RegisteredRoute } from './server.js';
export { HttpError, errorBody, sendError, type ErrorBody } from './errors.js';
export { REQUEST_ID_HEADER } from './request-id.js';
export { isPublicRoute } from './bearer-auth.js';
export { AllowedHosts } from './host-check.js';
export { CONSOLE_TOKEN_FILE, consoleTokenPath, ensureConsoleToken, readConsoleToken } from './console-token.js';
