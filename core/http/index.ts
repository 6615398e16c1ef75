export { createHttpServer, listen, redactQuery, type HttpServerOptions } from './server.js';
export { HttpError, errorBody, sendError, type ErrorBody } from './errors.js';
export { REQUEST_ID_HEADER } from './request-id.js';
export { isProtectedPath } from './bearer-auth.js';
