/** The app page from the keyboard alone: every control of the job is reached with Tab, in reading order, and the skip link lands on the job. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsBuiltApp, openAppPage } from './app-page.js';

test('Tab reaches the skip link, then every control of the job in order; Enter on the skip link moves focus to the job', { ...needsBuiltApp(), timeout: 120_000 }, async () => {
  const { page, close } = await openAppPage();
  try {
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase() || ''));
    }
    // Start and Stop are disabled until folders are chosen, and the closed pipeline text is skipped: the rest come in reading order.
    const expected = ['a', 'pipeline-choice', 'pipeline-file', 'summary', 'pick-input', 'pick-output', 'engine-choice'];
    assert.deepEqual(reached.slice(0, expected.length), expected, `focus went ${reached.join(' → ')}`);
    assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'solid', 'the focused control shows its focus');
    await page.keyboard.press('Shift+Tab');
    await page.reload();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'job-heading');
  } finally {
    await close();
  }
});

test('the page follows the system setting: dark colours when it prefers dark, light ones when light', { ...needsBuiltApp(), timeout: 120_000 }, async () => {
  const { page, close } = await openAppPage();
  try {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await background(), 'rgb(255, 255, 255)');
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.equal(await background(), 'rgb(15, 18, 23)');
  } finally {
    await close();
  }
});
