// A real browser for tests: Debian's chromium driven by playwright-core (never a browser download).
// Screenshots go to artifacts/screenshots/ (CSGNET_ARTIFACTS overrides), which CI keeps.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { packageRoot } from '../../src/util/paths.js';

export const CHROMIUM = process.env.CSGNET_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or null. In CI (CI=true) a missing browser is a failure, not a skip. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} not found (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/** Collects console errors and page errors of a page, for asserting that a page ran cleanly. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

export function screenshotPath(name: string): string {
  const dir = process.env.CSGNET_ARTIFACTS ? join(process.env.CSGNET_ARTIFACTS, 'screenshots') : join(packageRoot(), 'artifacts', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
