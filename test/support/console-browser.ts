import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { REPO_ROOT, type RunningPantheon } from './pantheon-process.js';

/** Debian's Chromium (`apt-get install chromium`): the tests drive it and never download a browser. */
export const CHROMIUM = process.env.PANTHEON_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can (for `it(..., { skip })`). */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install Debian's "chromium" package (apt-get install chromium) to run the console's browser tests`;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: the tests run as root in CI, where Chromium refuses its own sandbox.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** What the element shows, as a string (all of its text, hidden parts included). */
export async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

/** Screenshots land here (gitignored): what a person would have seen at each step. */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'console');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A one-time sign-in URL for `human`, as `pantheon login-link` gets it from a running server. */
export async function loginLink(app: RunningPantheon, human: string): Promise<string> {
  const res = await fetch(`${app.url}/api/login-links`, { method: 'POST', headers: { ...app.auth, 'content-type': 'application/json' }, body: JSON.stringify({ human }) });
  if (res.status !== 201) throw new Error(`POST /api/login-links answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { url: string }).url;
}

/**
 * Signs `human` in the way a person does: opens the link, presses "Sign in", lands on the
 * console and waits for the team to be on screen.
 */
export async function signIn(context: BrowserContext, link: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/auth'));
  await page.getByTestId('team').waitFor();
  return page;
}

/** Runs in the page: Navigation and Resource Timing up to the Team view's mark, and in all. */
const TIMINGS_IN_PAGE = `(() => {
  const team = performance.getEntriesByName('pantheon:team-rendered')[0];
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const at = team ? team.startTime : Number.NaN;
  const bytes = (until) => entries.filter((e) => e.startTime <= until).reduce((sum, e) => sum + (e.transferSize || 0), 0);
  return { bytesToTeam: bytes(at), bytesSettled: bytes(Number.POSITIVE_INFINITY), msToTeam: Math.round(at) };
})()`;

export interface FirstLoad {
  /** Bytes over the wire (headers included) of the page and everything it fetched until the team was on screen. */
  bytesToTeam: number;
  /** The same once the page had settled (charts and their library loaded). */
  bytesSettled: number;
  /** From navigation start until the team table was rendered (the console's `pantheon:team-rendered` mark). */
  msToTeam: number;
}

/**
 * One cold first load of the console (a fresh browser context: no cache; the session cookie
 * only), timed by the browser itself: Navigation and Resource Timing, and the mark the Team view
 * sets once it has rendered.
 */
export async function measureFirstLoad(browser: Browser, app: RunningPantheon, cookieFrom: BrowserContext): Promise<FirstLoad> {
  const context = await browser.newContext({ storageState: await cookieFrom.storageState() });
  try {
    const page = await context.newPage();
    await page.goto(`${app.url}/`);
    await page.getByTestId('team').waitFor();
    await page.waitForLoadState('networkidle');
    // A string, not a function: tsx would wrap the function's inner helpers in its own `__name`, unknown in the page.
    return (await page.evaluate(TIMINGS_IN_PAGE)) as FirstLoad;
  } finally {
    await context.close();
  }
}

/**
 * Text whose contrast with what is behind it is under WCAG AA (4.5:1; 3:1 for large text): each
 * visible element's own text colour against the first opaque background up its ancestors.
 * Runs in the page as a string (see TIMINGS_IN_PAGE).
 */
export async function lowContrastTexts(page: Page): Promise<string[]> {
  return (await page.evaluate(CONTRAST_IN_PAGE)) as string[];
}

const CONTRAST_IN_PAGE = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) return c;
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.opacity === '0') continue;
    const fg = lum(rgb(style.color));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(el.tagName.toLowerCase() + ' "' + el.textContent.trim().slice(0, 40) + '" ' + ratio.toFixed(2) + ':1');
  }
  return bad;
})()`;
