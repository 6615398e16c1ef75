/**
 * The web console's server side (the browser app is console/, built into dist/console/): sign-in
 * with one-time login links, sessions and CSRF (core/http checks the credential on every
 * request), the API of every view (docs/api.md), and serving the built app at `/`.
 */
export { ConsoleSessions, UnknownHumanError } from './sessions.js';
export { loginCommand } from './login-command.js';
export { loginUrl } from './auth-routes.js';
export { QueueDepthSamples } from './stats-routes.js';
export { registerWebConsole } from './register.js';
