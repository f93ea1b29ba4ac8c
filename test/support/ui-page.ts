/**
 * Driving Berth's web UI in Chromium (playwright-core) on a machine whose suites add and remove
 * veths and bridges all the time: Chromium aborts navigations and subresources with
 * net::ERR_NETWORK_CHANGED when the host's interfaces change, which can leave a page blank.
 */
import type { Page } from 'playwright-core';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** page.goto, again after net::ERR_NETWORK_CHANGED. */
export async function gotoRetrying(page: Page, url: string): Promise<void> {
  for (let i = 0; ; i++) {
    try { await page.goto(url); return; } catch (err) {
      if (i >= 4 || !/ERR_NETWORK_CHANGED/.test(String(err))) throw err;
      await sleep(500);
    }
  }
}

/**
 * Opens `url` and waits for the element with data-testid `ready`; when it does not come in 15 s
 * (a subresource cut by a network change leaves the page blank: seen twice under other suites' load)
 * or a stylesheet did not load, what the page did is logged and the page is loaded once more.
 */
export async function openUi(page: Page, url: string, ready: string): Promise<void> {
  const origin = new URL(url).origin;
  const seen: string[] = [];
  const path = (u: string) => u.slice(origin.length, origin.length + 60);
  page.on('pageerror', (e) => seen.push(`pageerror ${e.message}`));
  page.on('requestfailed', (r) => seen.push(`failed ${r.method()} ${path(r.url())} ${r.failure()?.errorText}`));
  page.on('request', (r) => seen.push(`request ${r.method()} ${path(r.url())}`));
  page.on('response', (r) => seen.push(`response ${r.status()} ${path(r.url())}`));
  await gotoRetrying(page, url);
  const came = await page.getByTestId(ready).waitFor({ timeout: 15_000 }).then(() => true, () => false);
  // A stylesheet cut at load leaves a page that signs in but lays nothing out: the map's canvas has no
  // size and stays hidden (CI, 2026-12-07). A failed <link> has no sheet.
  const styled = came && await page.evaluate(STYLESHEETS_LOADED).catch(() => false) === true;
  if (!styled) {
    console.log(`${came ? 'a stylesheet did not load' : `${ready} did not come`}; the page says: ${await page.evaluate(() => document.body.innerText).catch(() => '?')}\n${seen.join('\n')}`);
    await gotoRetrying(page, url);
    await page.getByTestId(ready).waitFor({ timeout: 30_000 });
    if (await page.evaluate(STYLESHEETS_LOADED) !== true) throw new Error(`${url}: a stylesheet did not load twice`);
  }
}

/** Run in the page, as a string: every <link rel=stylesheet> of the page is loaded. */
const STYLESHEETS_LOADED = `[...document.querySelectorAll('link[rel=stylesheet]')].every((l) => l.sheet !== null)`;

/** Signs in on the UI at `baseUrl` with a bearer token (the sign-in page's form). */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await openUi(page, `${baseUrl}/ui/`, 'token');
  await page.getByTestId('token').fill(token);
  await page.getByTestId('login').click();
  await page.getByTestId('user').waitFor({ timeout: 15_000 });
}
