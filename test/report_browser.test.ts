// The report in a real browser (Debian's chromium through playwright-core), opened from file:// with
// the network cut off: every chart becomes an SVG, nothing is logged as an error, the sections
// collapse, and the page fits a phone's width. Screenshots at 1280 and 390 px go to screenshotPath().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { browserMissing, collectErrors, launchChromium, screenshotPath } from './support/browser.js';
import { reportFixture } from './report_fixture.js';

const skip = browserMissing();

test('the report renders every chart as SVG from file://, with no console errors, at laptop and phone widths', { skip: skip ?? false }, async () => {
  const { file } = await reportFixture();
  const browser = await launchChromium();
  try {
    for (const [width, height, name] of [[1280, 900, 'report-1280.png'], [390, 844, 'report-390.png']] as const) {
      const context = await browser.newContext({ viewport: { width, height }, offline: true });
      const requests: string[] = [];
      context.on('request', (r) => { if (!/^(file|data):/.test(r.url())) requests.push(r.url()); });
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('body[data-charts="done"]', { timeout: 60_000 });
      const charts = await page.$$eval('[data-chart]', (els) => els.map((el) => ({
        state: el.getAttribute('data-state'), svgs: el.querySelectorAll('svg').length, marks: el.querySelectorAll('svg path, svg rect, svg line').length,
        label: el.getAttribute('aria-label'),
      })));
      assert.ok(charts.length >= 20, `${charts.length} charts`);
      for (const c of charts) {
        assert.equal(c.state, 'ok', `chart ${c.label}`);
        assert.equal(c.svgs, 1, `chart ${c.label} has one SVG`);
        assert.ok(c.marks > 0, `chart ${c.label} draws marks`);
      }
      // Every image decoded (data URIs), at a width that fits the viewport.
      const images = await page.$$eval('img', (els) => els.map((el) => ({ ok: (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, alt: el.getAttribute('alt') })));
      assert.ok(images.length > 10 && images.every((i) => i.ok), `undecoded images: ${images.filter((i) => !i.ok).map((i) => i.alt).join(', ')}`);
      // The page itself never scrolls sideways (wide charts scroll inside their own box).
      const overflow = await page.evaluate(() => {
        const over = document.documentElement.scrollWidth - document.documentElement.clientWidth;
        // the outermost elements sticking out, for the message
        const culprits = [...document.querySelectorAll('main *')].filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 &&
          !el.parentElement?.closest('.scroll, figure.chart')).slice(0, 5).map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`);
        return { over, culprits };
      });
      assert.ok(overflow.over <= 0, `page is ${overflow.over} px wider than the ${width} px viewport: ${overflow.culprits.join(', ')}`);
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      await page.screenshot({ path: screenshotPath(name) });
      if (width === 1280) {
        // Sections collapse: closing one hides its charts.
        const summary = page.locator('#run1-curves > summary');
        await summary.click();
        assert.equal(await page.locator('#run1-curves [data-chart]').first().isVisible(), false);
        await summary.click();
        assert.equal(await page.locator('#run1-curves [data-chart]').first().isVisible(), true);
        await page.screenshot({ path: screenshotPath('report-1280-full.png'), fullPage: true });
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
});
