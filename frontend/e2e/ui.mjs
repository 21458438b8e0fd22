// End-to-end tests of the web UI in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; no browser download). Runs against the origin in QD_BASE_URL (default
// http://127.0.0.1:8080, the `make up` stack) and saves screenshots to test-artifacts/ui/.
//   QD_BASE_URL=http://127.0.0.1:8080 node frontend/e2e/ui.mjs [test-name ...]
// Exits non-zero when any test fails; prints `N passed, N failed` last.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDroppingProxy } from './dropping-proxy.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.QD_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const ARTIFACTS = resolve(process.env.QD_UI_ARTIFACTS ?? join(HERE, '..', '..', 'test-artifacts', 'ui'));
const CHROMIUM = process.env.QD_CHROMIUM ?? '/usr/bin/chromium';
const RUN_TIMEOUT = Number(process.env.QD_RUN_TIMEOUT_MS ?? 120_000);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PROMPT = 'Which large caps have the strongest trends right now?';

mkdirSync(ARTIFACTS, { recursive: true });

const shot = async (page, name, opts = {}) => {
  await page.evaluate(() => window.scrollTo(0, 0)).catch(() => undefined); // sticky header at the top
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, ...opts });
};
const timelineSeqs = (page) =>
  page.locator('[data-testid=run-timeline] li[data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));

/** Prompt → cards; returns the card of `scenarioId` when suggested, else the top card. */
async function suggest(page, base, prompt, scenarioId = 'trend_strength') {
  await page.goto(`${base}/`);
  await page.getByTestId('prompt-input').fill(prompt);
  await page.getByTestId('suggest-submit').click();
  await page.getByTestId('scenario-card').first().waitFor({ timeout: 30_000 });
  const wanted = page.locator(`[data-testid=scenario-card][data-scenario-id="${scenarioId}"]`);
  const card = (await wanted.count()) > 0 ? wanted.first() : page.getByTestId('scenario-card').first();
  const summary = card.locator('details.inputs > summary');
  if ((await card.locator('details.inputs[open]').count()) === 0) await summary.click();
  await card.locator('[data-field]').first().waitFor();
  return card;
}

/** Edits one integer input of a card to another in-bounds value; returns [name, value]. */
async function editIntegerParam(card) {
  const inputs = card.locator('input[inputmode=numeric][data-field]');
  assert.ok((await inputs.count()) > 0, 'the card has an integer input to edit');
  const preferred = card.locator('input[data-field=lookback_days]');
  const input = (await preferred.count()) > 0 ? preferred : inputs.first();
  const name = await input.getAttribute('data-field');
  const help = (await card.locator(`#${await input.getAttribute('aria-describedby').then((ids) => ids?.split(' ')[0] ?? 'none')}`).textContent().catch(() => '')) ?? '';
  const current = Number(await input.inputValue());
  const lo = Number(/(-?\d+(?:\.\d+)?) ≤ value/.exec(help)?.[1] ?? /(-?\d+(?:\.\d+)?) < value/.exec(help)?.[1] ?? 1);
  const hi = Number(/value ≤ (-?\d+(?:\.\d+)?)/.exec(help)?.[1] ?? /value < (-?\d+(?:\.\d+)?)/.exec(help)?.[1] ?? current + 100);
  let next = Number.isFinite(current) && current > 0 ? current + 1 : lo + 1;
  if (next > hi - 1) next = Math.max(lo + 1, Math.floor((lo + hi) / 2));
  await input.fill(String(next));
  await input.blur();
  return [name, next];
}

async function waitTerminal(page) {
  await page.locator('[data-testid=run-status][data-status=succeeded], [data-testid=run-status][data-status=failed], [data-testid=run-status][data-status=cancelled], [data-testid=run-status][data-status=timed_out]').waitFor({ timeout: RUN_TIMEOUT });
  return page.getByTestId('run-status').getAttribute('data-status');
}

async function assertTimelineMatchesServer(page, base, runId) {
  // the run document can say "succeeded" a moment before its last event is projected: compare
  // once the UI has settled (its watcher closed), as a person would read it
  await page.locator('[data-testid=run-connection][data-connection=closed]').waitFor({ timeout: 30_000 });
  const seqs = await timelineSeqs(page);
  assert.equal(new Set(seqs).size, seqs.length, `no duplicated timeline entries: ${seqs}`);
  const run = await (await page.request.get(`${base}/analysis/runs/${runId}`)).json();
  const serverSeqs = run.timeline.map((e) => e.seq).sort((a, b) => a - b);
  assert.deepEqual(seqs, serverSeqs, 'the UI timeline has exactly the server timeline');
  return run;
}

const TESTS = {
  async prompt_to_result({ context }) {
    const page = await context.newPage();
    await page.goto(`${BASE}/`);
    await page.getByTestId('prompt-input').waitFor();
    await shot(page, '01-prompt-empty');
    const card = await suggest(page, BASE, PROMPT);
    const [param, value] = await editIntegerParam(card);
    await shot(page, '02-prompt-cards');
    await card.getByTestId('run-button').click();
    await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
    const runId = new URL(page.url()).searchParams.get('id');
    await page.locator('[data-testid=run-timeline] li[data-seq]').first().waitFor({ timeout: 30_000 });
    const boxAtStart = await page.locator('.timeline-panel').boundingBox();
    await shot(page, '03-run-live');
    const status = await waitTerminal(page);
    const reason = status === 'succeeded' ? '' : await page.getByTestId('run-error').textContent().catch(() => '');
    assert.equal(status, 'succeeded', `run ${runId} ended ${status}: ${reason}`);
    await page.getByTestId('result-table').waitFor({ timeout: 30_000 });
    assert.ok((await page.locator('[data-testid=result-table] tbody tr').count()) > 0, 'the table has rows');
    await page.getByTestId('result-chart').first().waitFor();
    await page.locator('[data-testid=result-chart] canvas').first().waitFor({ timeout: 15_000 });
    const run = await assertTimelineMatchesServer(page, BASE, runId);
    // No layout jump: the timeline panel neither moved nor grew while events and the result arrived.
    const boxAtEnd = await page.locator('.timeline-panel').boundingBox();
    assert.deepEqual([boxAtEnd.y, boxAtEnd.height], [boxAtStart.y, boxAtStart.height], 'the timeline panel kept its place');
    const statuses = run.timeline.filter((e) => e.event === 'status').map((e) => e.status);
    assert.deepEqual([statuses[0], statuses.at(-1)], ['queued', 'succeeded'], `lifecycle ${statuses}`);
    assert.ok(statuses.includes('running'), `lifecycle passes through running: ${statuses}`);
    assert.equal(run.manifest.params[param], value, `the edited ${param} reached the run manifest`);
    // Sorting the table by a numeric column keeps every row.
    const rows = await page.locator('[data-testid=result-table] tbody tr').count();
    await page.locator('[data-testid=result-table] thead th.num button').first().click().catch(() => undefined);
    assert.equal(await page.locator('[data-testid=result-table] tbody tr').count(), rows);
    // CSV export: a header of column names and one line per row.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    assert.match(download.suggestedFilename(), new RegExp(`${runId}\\.csv$`));
    const csv = await readFile(await download.path(), 'utf8');
    assert.equal(csv.trim().split('\r\n').length, rows + 1, 'CSV has a header and every row');
    await page.waitForTimeout(300); // let the chart paint
    await shot(page, '04-run-succeeded');
    // Dark theme and a half-laptop-wide window.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await shot(page, '05-run-succeeded-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 720, height: 900 });
    await page.waitForTimeout(300);
    await shot(page, '06-run-succeeded-narrow');
    // The run is in the history, newest first.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${BASE}/history/`);
    await page.locator(`[data-testid=history-table] tr[data-run-id="${runId}"]`).waitFor({ timeout: 15_000 });
    await shot(page, '07-history');
  },

  async dropped_connection_resumes({ context }) {
    // A proxy in front of the origin cuts the first stream right after its first event, as a
    // network blip or a Lambda ending its response would; EventSource must resume by itself.
    const proxy = await startDroppingProxy(BASE, { dropAfterEvents: 1, holdRunReads: true });
    try {
      const page = await context.newPage();
      const card = await suggest(page, proxy.url, PROMPT);
      await card.getByTestId('run-button').click();
      await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
      const runId = new URL(page.url()).searchParams.get('id');
      const status = await waitTerminal(page);
      assert.equal(status, 'succeeded');
      await page.getByTestId('result-table').waitFor({ timeout: 30_000 });
      const streams = proxy.streamRequests();
      assert.ok(proxy.dropped() >= 1, 'the proxy dropped the first stream');
      assert.ok(streams.length >= 2, `the browser reconnected (${streams.length} stream requests)`);
      const resumed = streams.slice(1).find((r) => r.lastEventId);
      assert.ok(resumed, `a reconnect carried Last-Event-ID: ${JSON.stringify(streams)}`);
      assert.ok(Number(resumed.lastEventId) >= 1);
      await assertTimelineMatchesServer(page, proxy.url, runId);
      await shot(page, '08-run-resumed');
    } finally {
      await proxy.close();
    }
  },

  async stream_unavailable_falls_back_to_polling({ context }) {
    const proxy = await startDroppingProxy(BASE, { refuseStreams: true });
    try {
      const page = await context.newPage();
      const card = await suggest(page, proxy.url, PROMPT);
      await card.getByTestId('run-button').click();
      await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
      const runId = new URL(page.url()).searchParams.get('id');
      assert.equal(await waitTerminal(page), 'succeeded');
      await page.getByTestId('result-table').waitFor({ timeout: 30_000 });
      assert.ok(proxy.streamRequests().length >= 1, 'the UI tried the stream first');
      await assertTimelineMatchesServer(page, proxy.url, runId);
    } finally {
      await proxy.close();
    }
  },

  async failing_run_shows_reason({ context }) {
    const page = await context.newPage();
    const card = await suggest(page, BASE, 'trend strength with ADX for AAPL and MSFT', 'trend_strength');
    const asOf = card.locator('input[data-field=as_of]');
    assert.ok((await asOf.count()) > 0, 'the card has an as_of input');
    await asOf.fill('1990-01-01');
    await card.getByTestId('run-button').click();
    // The API may refuse it up front (error on the field) or the run may fail (reason on the run page).
    const fieldError = card.getByTestId('field-error');
    const runError = page.getByTestId('run-error');
    await Promise.race([fieldError.first().waitFor({ timeout: RUN_TIMEOUT }), runError.waitFor({ timeout: RUN_TIMEOUT })]);
    let reason;
    if (await runError.isVisible().catch(() => false)) {
      assert.equal(await waitTerminal(page), 'failed');
      reason = await runError.textContent();
      const runId = new URL(page.url()).searchParams.get('id');
      await page.locator('[data-testid=run-connection][data-connection=closed]').waitFor({ timeout: 30_000 });
      const seqs = await timelineSeqs(page);
      const run = await assertTimelineMatchesServer(page, BASE, runId);
      const last = run.timeline.at(-1);
      assert.equal(last.status, 'failed', `the timeline ends with the failure: ${seqs}`);
    } else {
      reason = await fieldError.first().textContent();
    }
    assert.ok(reason && reason.trim().length > 10, `a reason is shown: ${reason}`);
    await shot(page, '09-run-failed');
    console.log(`  reason shown: ${reason.trim()}`);
  },
};

const only = process.argv.slice(2);
const selected = Object.entries(TESTS).filter(([name]) => only.length === 0 || only.includes(name));
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
let passed = 0;
let failed = 0;
console.log(`UI e2e against ${BASE}; screenshots in ${ARTIFACTS}`);
for (const [name, test] of selected) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const problems = [];
  context.on('page', (page) => {
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  });
  const started = Date.now();
  try {
    await test({ context });
    assert.deepEqual(problems, [], 'no uncaught page errors');
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name} (${Date.now() - started} ms)\n  ${String(err?.stack ?? err).split('\n').slice(0, 6).join('\n  ')}`);
    for (const page of context.pages()) await shot(page, `FAIL-${name}`).catch(() => undefined);
  } finally {
    await context.close();
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
