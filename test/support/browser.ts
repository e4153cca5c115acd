// A headless browser for tests that look at a web UI the way a person would: Debian's chromium driven by
// playwright-core, on loopback only, with full-page screenshots kept in test-artifacts/.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../../stack/tools.ts';

export const chromiumPath = '/usr/bin/chromium';
export const artifactsDir = join(repoRoot, 'test-artifacts');

/**
 * Launches Debian's chromium headless. Missing chromium is a failure, not a skip: the suite's tools come
 * from scripts/install-tools.sh.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: run scripts/install-tools.sh (it installs Debian's chromium package)`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: [
      // Running as root needs --no-sandbox; the rest keep Chromium from dialing Google's hosts, which
      // the closed network refuses (only loopback is reachable).
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Refuses every request that leaves loopback, so a page can never hang on the outside world. */
export async function loopbackOnly(page: Page): Promise<void> {
  await page.route(
    (url) => url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
    (route) => route.abort('blockedbyclient'),
  );
}

/** The page's visible text, or '' while the page is between documents. */
async function shownText(page: Page): Promise<string> {
  return page
    .locator('body')
    .innerText({ timeout: 2_000 })
    .catch(() => '');
}

/**
 * Waits until the page's visible text contains every one of `texts` (polled from here: the project's
 * TypeScript has no DOM types); on timeout the error names the missing ones and shows the start of
 * what the page did show.
 */
export async function waitForTexts(page: Page, texts: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let shown = '';
  for (;;) {
    shown = await shownText(page);
    const missing = texts.filter((t) => !shown.includes(t));
    if (missing.length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `${page.url()} did not show ${JSON.stringify(missing)} within ${timeoutMs} ms; the page showed:\n` +
          shown.slice(0, 2_000),
      );
    }
    await page.waitForTimeout(250);
  }
}

/**
 * Opens `url` and waits for `texts`, reloading while they are missing (a list backed by Temporal's
 * visibility store can lag behind the workflow by a moment), until `timeoutMs` has passed.
 */
export async function openUntilShown(
  page: Page,
  url: string,
  texts: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  for (;;) {
    const left = deadline - Date.now();
    try {
      await waitForTexts(page, texts, Math.min(left, 10_000));
      return;
    } catch (error) {
      if (deadline - Date.now() < 1_000) throw error;
      await page.reload({ waitUntil: 'domcontentloaded', timeout: Math.max(deadline - Date.now(), 1_000) });
    }
  }
}

/**
 * A full-page PNG in test-artifacts/; returns its path and size in bytes. Apps that scroll an inner
 * element (Temporal UI does) are only as tall as the viewport: `height` makes it taller first.
 */
export async function screenshot(
  page: Page,
  name: string,
  height?: number,
): Promise<{ path: string; bytes: number }> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  const viewport = page.viewportSize();
  if (height !== undefined && viewport) {
    await page.setViewportSize({ width: viewport.width, height });
    await page.waitForTimeout(500);
  }
  await page.screenshot({ path, fullPage: true, timeout: 30_000 });
  if (height !== undefined && viewport) await page.setViewportSize(viewport);
  return { path, bytes: statSync(path).size };
}
