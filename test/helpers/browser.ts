import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

// Headless Chromium for the web app's tests: Debian's `chromium` package (installed by .ci/run;
// Playwright's own browser download is not used), driven by playwright-core. Pages are read as a
// person reads them (roles and accessible names), scanned with axe-core, and photographed at
// desktop and phone width into docs/screenshots/.

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

const axeSource = (() => {
  const require = createRequire(import.meta.url);
  return require('node:fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') as string;
})();

type AxeViolation = { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown }> };

/** Runs axe-core in the page; fails on any serious or critical violation (naming each). */
export async function expectNoSeriousA11yViolations(page: Page, label: string): Promise<void> {
  // Evaluated through the DevTools protocol: the app's CSP (no inline scripts) rightly refuses a script tag.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target),
    }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${label}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
}

/** A full-page screenshot to docs/screenshots/<name>-<desktop|phone>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const width = page.viewportSize()?.width ?? DESKTOP.width;
  const kind = width <= PHONE.width ? 'phone' : 'desktop';
  await page.screenshot({
    path: join(SCREENSHOTS, `${name}-${kind}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}
