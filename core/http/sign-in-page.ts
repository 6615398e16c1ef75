/** A small self-contained HTML page (no scripts, no external files), for people's browsers. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>${escapeHtml(title)} · Pantheon</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:10vh auto;padding:0 1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.4rem}code{background:#eee;padding:.1em .3em;border-radius:3px}
button{font:inherit;padding:.6em 1.4em;border:0;border-radius:6px;background:#1d4ed8;color:#fff;cursor:pointer}
button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}</style></head>
<body><main>${body}</main></body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What a browser without a session sees instead of the console. */
export function signInPage(why: 'none' | 'expired'): string {
  return htmlPage(
    'Sign in',
    `<h1>Sign in to the Pantheon console</h1>
<p>${why === 'expired' ? 'Your session has ended. ' : ''}You need a login link: type <code>/login</code> in any chat with the team and it is sent to you in a direct message,
or ask an operator to run <code>pantheon login-link &lt;your id&gt;</code>.</p>`,
  );
}

/** A console login link in a message: its token signs someone in. */
const LOGIN_LINK = /\bhttps?:\/\/[^\s/]+(?:\/[^\s?]*)?\/auth\/login\?token=[A-Za-z0-9_-]+/g;

/**
 * The text with every console login link replaced by `[sign-in link]`: what a signed-in human
 * reads of a conversation, so a link sent to someone else's direct messages signs nobody else in.
 */
export function hideLoginLinks(text: string): string {
  return text.replace(LOGIN_LINK, '[sign-in link]');
}
