/**
 * Signing in to the web console over HTTP as a browser would: open the login link's page, submit
 * its form, keep the cookie, read the CSRF token from /api/me. For API tests of the console.
 */
export interface ConsoleSession {
  cookie: string;
  /** The raw Set-Cookie header the sign-in answered with. */
  setCookie: string;
  csrf: string;
  human: { id: string; approver: boolean };
  /** Headers for a request as this session: the cookie, and for changes the CSRF token and a same-origin Origin. */
  headers(change?: boolean): Record<string, string>;
}

export async function linkFor(url: string, auth: Record<string, string>, human: string): Promise<string> {
  const res = await fetch(`${url}/api/login-links`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ human }) });
  if (res.status !== 201) throw new Error(`POST /api/login-links answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { url: string }).url;
}

/** Submits a login link's form; the answer as it came (a 303 with the cookie, or a refusal page). */
export async function submitLink(link: string): Promise<Response> {
  const u = new URL(link);
  return fetch(`${u.origin}/auth/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: u.origin },
    body: new URLSearchParams({ token: u.searchParams.get('token') ?? '' }).toString(),
  });
}

export async function signIn(link: string): Promise<ConsoleSession> {
  const origin = new URL(link).origin;
  const page = await fetch(link);
  if (page.status !== 200) throw new Error(`the login page answered ${page.status}: ${await page.text()}`);
  const res = await submitLink(link);
  const setCookie = res.headers.get('set-cookie') ?? '';
  if (res.status !== 303 || !setCookie) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = setCookie.split(';')[0]!;
  const me = await fetch(`${origin}/api/me`, { headers: { cookie } });
  const body = (await me.json()) as { csrfToken: string; human: { id: string; approver: boolean } };
  return {
    cookie,
    setCookie,
    csrf: body.csrfToken,
    human: body.human,
    headers: (change = false): Record<string, string> => (change ? { cookie, 'x-csrf-token': body.csrfToken, origin, 'content-type': 'application/json' } : { cookie }),
  };
}
