// End-to-end tests of the web UI in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; no browser download). Runs against the origin in QD_BASE_URL (default
// http://127.0.0.1:8080, the `make up` stack) and saves screenshots to test-artifacts/ui/.
//   QD_BASE_URL=http://127.0.0.1:8080 node frontend/e2e/ui.mjs [test-name ...]
// Exits non-zero when any test fails; prints `N passed, N failed` last.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDroppingProxy } from './dropping-proxy.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.QD_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const ARTIFACTS = resolve(process.env.QD_UI_ARTIFACTS ?? join(HERE, '..', '..', 'test-artifacts', 'ui'));
const CHROMIUM = process.env.QD_CHROMIUM ?? '/usr/bin/chromium';
const RUN_TIMEOUT = Number(process.env.QD_RUN_TIMEOUT_MS ?? 120_000);
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PROMPT = 'Which large caps have the strongest trends right now?';
// axe-core from node_modules, injected into the page (nothing is loaded from the network).
const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

mkdirSync(ARTIFACTS, { recursive: true });

const shot = async (page, name, opts = {}) => {
  await page.evaluate(() => window.scrollTo(0, 0)).catch(() => undefined); // sticky header at the top
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, ...opts });
};
/** The viewport as it is (no scroll to the top): where the keyboard focus is. */
const shotHere = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
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
  const help =
    (await card
      .locator(`#${await input.getAttribute('aria-describedby').then((ids) => ids?.split(' ')[0] ?? 'none')}`)
      .textContent()
      .catch(() => '')) ?? '';
  const current = Number(await input.inputValue());
  const lo = Number(/(-?\d+(?:\.\d+)?) ≤ value/.exec(help)?.[1] ?? /(-?\d+(?:\.\d+)?) < value/.exec(help)?.[1] ?? 1);
  const hi = Number(
    /value ≤ (-?\d+(?:\.\d+)?)/.exec(help)?.[1] ?? /value < (-?\d+(?:\.\d+)?)/.exec(help)?.[1] ?? current + 100,
  );
  let next = Number.isFinite(current) && current > 0 ? current + 1 : lo + 1;
  if (next > hi - 1) next = Math.max(lo + 1, Math.floor((lo + hi) / 2));
  await input.fill(String(next));
  await input.blur();
  return [name, next];
}

/** Makes every run this context starts compute (`fresh`): tests that watch a run's lifecycle
 * must not be answered from the result cache by an identical earlier run. */
async function computeFresh(context) {
  await context.route('**/analysis/run', (route) => {
    const request = route.request();
    if (request.method() !== 'POST') return route.continue();
    return route.continue({ postData: JSON.stringify({ ...request.postDataJSON(), fresh: true }) });
  });
}

/** The terminal status the page shows; with `runId`, only once it shows that run (the page
 * may still show the previous run's status for a moment after navigating to a new one). */
async function waitTerminal(page, runId) {
  const shown = runId ? `[data-testid=run-status][data-run-id="${runId}"]` : '[data-testid=run-status]';
  const terminal = page.locator(
    ['succeeded', 'failed', 'cancelled', 'timed_out'].map((s) => `${shown}[data-status=${s}]`).join(', '),
  );
  await terminal.waitFor({ timeout: RUN_TIMEOUT });
  return terminal.first().getAttribute('data-status');
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

/** Runs axe-core on the page as it is now; returns its violations as plain objects. */
async function axeAudit(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE_SCRIPT });
  return page.evaluate(async () => {
    const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
    return violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim(),
      })),
    }));
  });
}

/** One line per violated rule and up to five of its elements, for a readable failure. */
function describeViolations(where, violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes.slice(0, 5).map((n) => `      ${n.target}: ${n.summary}`);
      if (v.nodes.length > 5) nodes.push(`      … and ${v.nodes.length - 5} more`);
      return [
        `  [${where}] ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} element${v.nodes.length === 1 ? '' : 's'})`,
        ...nodes,
      ].join('\n');
    })
    .join('\n');
}

/** Whether the focused element shows a focus indicator: a non-`none` outline or a box-shadow. */
async function focusState(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body)
      return { tag: 'body', visible: false, indicator: false, label: '(nothing focused)' };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
    const rect = el.getBoundingClientRect();
    // not hidden off screen, and not under the sticky header: the element is on top at its centre
    const cx = Math.min(window.innerWidth - 1, Math.max(0, rect.left + rect.width / 2));
    const cy = Math.min(window.innerHeight - 1, Math.max(0, rect.top + Math.min(rect.height / 2, 8)));
    const top = document.elementFromPoint(cx, cy);
    const visible =
      rect.width > 0 &&
      rect.height > 0 &&
      rect.bottom > 0 &&
      rect.top < window.innerHeight &&
      (top === el || el.contains(top));
    const text = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || '')
      .trim()
      .replace(/\s+/g, ' ')
      .slice(0, 60);
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      testid: el.dataset?.testid ?? null,
      legend: Boolean(el.closest('.u-legend')) && el.getAttribute('role') === 'button',
      indicator: outline || shadow,
      visible,
      label: `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}> "${text}"`,
      covering:
        top && top !== el && !el.contains(top) ? `<${top.tagName.toLowerCase()}.${String(top.className)}>` : null,
    };
  });
}

/** Asserts that the focused element is on screen with a visible focus indicator; returns its state. */
async function assertVisibleFocus(page, step) {
  const f = await focusState(page);
  assert.ok(f.tag !== 'body', `${step}: something has focus`);
  assert.ok(f.indicator, `${step}: ${f.label} shows a focus outline or box-shadow`);
  assert.ok(
    f.visible,
    `${step}: ${f.label} is on screen and not covered${f.covering ? ` (covered by ${f.covering})` : ''}`,
  );
  return f;
}

/** Presses `key` until `predicate(focusState)` holds, asserting visible focus at every stop. */
async function tabUntil(page, predicate, what, { key = 'Tab', max = 80 } = {}) {
  const path = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(key);
    const f = await assertVisibleFocus(page, `${key} #${i + 1} towards ${what}`);
    path.push(f.label);
    if (predicate(f)) {
      if (process.env.QD_UI_VERBOSE) console.log(`  ${what} after ${i + 1} × ${key}:\n    ${path.join('\n    ')}`);
      return f;
    }
  }
  throw new assert.AssertionError({ message: `${what} not reached within ${max} presses of ${key}` });
}

/** Signs in on the sign-in page (the local stack's stand-in for the hosted UI) as `username`. */
async function signInAs(page, username) {
  await page.waitForURL(/\/oauth2\/authorize\?/, { timeout: 15_000 });
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .locator(`[data-testid=account][data-user="${username}"][data-signed-in=true]`)
    .waitFor({ timeout: 15_000 });
}

/** The history page as the current user: the run ids it lists once loaded. */
async function historyRunIds(page) {
  await page.locator('[data-testid=history-table], .history-page .empty').first().waitFor({ timeout: 15_000 });
  return page
    .locator('[data-testid=history-table] tr[data-run-id]')
    .evaluateAll((rows) => rows.map((r) => r.dataset.runId));
}

const TESTS = {
  // Needs a universe registered from the researcher's own price file (tests/e2e/test_ui.py ingests
  // one first): QD_UI_OWN_UNIVERSE names it, QD_UI_OWN_TICKERS its comma-separated tickers.
  async own_universe_picker({ context }) {
    const universe = process.env.QD_UI_OWN_UNIVERSE;
    const tickers = (process.env.QD_UI_OWN_TICKERS ?? '').split(',').filter(Boolean);
    assert.ok(universe && tickers.length > 0, 'QD_UI_OWN_UNIVERSE and QD_UI_OWN_TICKERS are set');
    const page = await context.newPage();
    const card = await suggest(page, BASE, PROMPT);
    const picker = card.locator('select[data-field=universe]');
    await picker.waitFor({ timeout: 15_000 });
    const labels = await picker.locator('option').allTextContents();
    assert.ok(
      labels.includes(`${universe} (${tickers.length} members)`),
      `the picker offers ${universe} with its member count: ${labels.join(' | ')}`,
    );
    assert.ok(
      labels.some((l) => l.startsWith('us_large_cap (')),
      'the built-in universes are offered too',
    );
    await picker.selectOption(universe);
    await card.locator('input[data-field=momentum_lookback]').fill('126');
    await shot(page, '18-own-universe-picker');
    await card.getByTestId('run-button').click();
    await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
    assert.equal(await waitTerminal(page), 'succeeded');
    const table = page.getByTestId('result-table');
    await table.waitFor({ timeout: 30_000 });
    const text = (await table.textContent()) ?? '';
    for (const ticker of tickers) assert.ok(text.includes(ticker), `${ticker} is in the result table`);
    await shot(page, '19-own-universe-result');
  },

  async prompt_to_result({ context }) {
    await computeFresh(context);
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
    const reason =
      status === 'succeeded'
        ? ''
        : await page
            .getByTestId('run-error')
            .textContent()
            .catch(() => '');
    assert.equal(status, 'succeeded', `run ${runId} ended ${status}: ${reason}`);
    await page.getByTestId('result-table').waitFor({ timeout: 30_000 });
    assert.ok((await page.locator('[data-testid=result-table] tbody tr').count()) > 0, 'the table has rows');
    await page.getByTestId('result-chart').first().waitFor();
    await page.locator('[data-testid=result-chart] canvas').first().waitFor({ timeout: 15_000 });
    const run = await assertTimelineMatchesServer(page, BASE, runId);
    // No layout jump: the timeline panel neither moved nor grew while events and the result arrived.
    const boxAtEnd = await page.locator('.timeline-panel').boundingBox();
    assert.deepEqual(
      [boxAtEnd.y, boxAtEnd.height],
      [boxAtStart.y, boxAtStart.height],
      'the timeline panel kept its place',
    );
    const statuses = run.timeline.filter((e) => e.event === 'status').map((e) => e.status);
    assert.deepEqual([statuses[0], statuses.at(-1)], ['queued', 'succeeded'], `lifecycle ${statuses}`);
    assert.ok(statuses.includes('running'), `lifecycle passes through running: ${statuses}`);
    assert.equal(run.manifest.params[param], value, `the edited ${param} reached the run manifest`);
    // Sorting the table by a numeric column keeps every row.
    const rows = await page.locator('[data-testid=result-table] tbody tr').count();
    await page
      .locator('[data-testid=result-table] thead th.num button')
      .first()
      .click()
      .catch(() => undefined);
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
    await computeFresh(context);
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
    await computeFresh(context);
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
    await Promise.race([
      fieldError.first().waitFor({ timeout: RUN_TIMEOUT }),
      runError.waitFor({ timeout: RUN_TIMEOUT }),
    ]);
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

  async accessibility_audit({ context }) {
    // axe-core on every page state a researcher sees; serious and critical violations fail the test.
    await computeFresh(context);
    const page = await context.newPage();
    const blocking = [];
    const minor = [];
    const audit = async (where) => {
      const violations = await axeAudit(page);
      const bad = violations.filter((v) => BLOCKING_IMPACTS.has(v.impact));
      if (bad.length > 0) blocking.push(describeViolations(where, bad));
      const rest = violations.filter((v) => !BLOCKING_IMPACTS.has(v.impact));
      if (rest.length > 0) minor.push(describeViolations(where, rest));
      console.log(`  audited ${where}: ${bad.length} serious/critical, ${rest.length} moderate/minor rule(s) violated`);
    };
    const inBothThemes = async (where, name) => {
      await audit(`${where}, light`);
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForTimeout(200);
      await audit(`${where}, dark`);
      await shot(page, `${name}-dark`);
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForTimeout(200);
    };

    await page.goto(`${BASE}/`);
    await page.getByTestId('prompt-input').waitFor();
    await audit('prompt, empty');
    const card = await suggest(page, BASE, PROMPT);
    await inBothThemes('prompt with cards', '10-a11y-prompt-cards');
    // A client-side validation error on a field (its message and aria-invalid state).
    const field = card.locator('input[inputmode=numeric][data-field]').first();
    const original = await field.inputValue();
    await field.fill('not a number');
    await field.blur();
    await card.getByTestId('field-error').first().waitFor();
    await inBothThemes('prompt with a field error', '11-a11y-field-error');
    await field.fill(original);
    await field.blur();

    await card.getByTestId('run-button').click();
    await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
    assert.equal(await waitTerminal(page), 'succeeded');
    await page.getByTestId('result-table').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid=result-chart] canvas').first().waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=run-connection][data-connection=closed]').waitFor({ timeout: 30_000 });
    await inBothThemes('run succeeded', '12-a11y-run');
    await page.setViewportSize({ width: 720, height: 900 }); // half a laptop screen
    await page.waitForTimeout(300);
    await audit('run succeeded, 720 px wide');
    await page.setViewportSize({ width: 1280, height: 900 });

    // The live and failed states pass too fast on the local stack to audit as they happen: the
    // same page is shown the run held mid-way (stream down, polls answered running) and failed.
    const runUrl = page.url();
    const runId = new URL(runUrl).searchParams.get('id');
    const real = await (await page.request.get(`${BASE}/analysis/runs/${runId}`)).json();
    const early = real.timeline.filter((e) => e.status === 'queued' || e.status === 'running').slice(0, 3);
    const held = {
      running: {
        ...real,
        status: 'running',
        result: null,
        error: null,
        timeline: early,
        progress: { step: 'compute', percent: 40, message: 'scoring 51 assets' },
      },
      failed: {
        ...real,
        status: 'failed',
        result: null,
        progress: null,
        error: { type: 'DataNotReady', message: 'end 1990-01-01 is before the first price date' },
        timeline: [
          ...early,
          {
            ...early.at(-1),
            seq: 99,
            event: 'status',
            status: 'failed',
            data: { error: { type: 'DataNotReady', message: 'end 1990-01-01 is before the first price date' } },
          },
        ],
      },
    };
    for (const [state, body] of Object.entries(held)) {
      await page.route(`**/analysis/runs/${runId}`, (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) }),
      );
      await page.route(`**/runs/${runId}/stream**`, (route) =>
        route.fulfill({ status: 503, contentType: 'application/json', body: '{}' }),
      );
      await page.goto(runUrl);
      await page.locator(`[data-testid=run-status][data-status=${state}]`).waitFor({ timeout: 15_000 });
      if (state === 'running') await page.getByTestId('cancel-button').waitFor();
      else await page.getByTestId('run-error').waitFor();
      await inBothThemes(`run ${state}`, `12-a11y-run-${state}`);
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }

    await page.goto(`${BASE}/history/`);
    await page.locator('[data-testid=history-table] tbody tr').first().waitFor({ timeout: 15_000 });
    await inBothThemes('history', '13-a11y-history');

    if (minor.length > 0) console.log(`  moderate/minor findings (not failing):\n${minor.join('\n')}`);
    assert.equal(
      blocking.length,
      0,
      `axe-core found serious/critical accessibility violations:\n${blocking.join('\n')}`,
    );
  },

  async switch_user({ context }) {
    // The default researcher owns a run (started without a token, as the UI does locally).
    const page = await context.newPage();
    const cards = await (await page.request.post(`${BASE}/analysis/suggest`, { data: { prompt: PROMPT } })).json();
    const card = cards.suggestions[0];
    const started = await page.request.post(`${BASE}/analysis/run`, {
      data: { scenario_id: card.scenario_id, params: card.params },
    });
    assert.equal(started.status(), 202, await started.text());
    const runId = (await started.json()).run_id;
    const authorized = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/analysis/'))
        authorized.push(request.headers().authorization ?? null);
    });

    await page.goto(`${BASE}/history/`);
    assert.ok((await historyRunIds(page)).includes(runId), 'the researcher sees their run');
    assert.match(await page.getByTestId('signed-in-user').textContent(), /Signed in as researcher \(default\)/);
    await shot(page, '18-signed-in-default');

    // Switch to a new user: the sign-in page, then back to the history page, empty for them.
    const other = `analyst-${Date.now().toString(36)}`;
    await page.getByRole('button', { name: 'Switch user' }).click();
    await page.waitForURL(/\/oauth2\/authorize\?/, { timeout: 15_000 });
    assert.match(await page.locator('main').textContent(), /need no password/);
    const violations = (await axeAudit(page)).filter((v) => BLOCKING_IMPACTS.has(v.impact));
    assert.equal(violations.length, 0, `the sign-in page is accessible:\n${describeViolations('sign-in', violations)}`);
    await shot(page, '19-sign-in-page');
    authorized.length = 0;
    await signInAs(page, other);
    await page.waitForURL(`${BASE}/history/`);
    assert.deepEqual(await historyRunIds(page), [], `${other} sees no runs`);
    assert.ok(
      authorized.length > 0 && authorized.every((h) => h?.startsWith('Bearer ')),
      `every API call carried the bearer token: ${authorized}`,
    );
    const other404 = await page.evaluate(async (id) => {
      const raw = JSON.parse(sessionStorage.getItem('qd.auth.tokens'));
      return (await fetch(`/analysis/runs/${id}`, { headers: { Authorization: `Bearer ${raw.idToken}` } })).status;
    }, runId);
    assert.equal(other404, 404, "another user's run is not found");
    await shot(page, '20-switched-user-empty-history');

    // A reload keeps the session (this tab's sessionStorage).
    await page.reload();
    await page.locator(`[data-testid=account][data-user="${other}"]`).waitFor({ timeout: 15_000 });

    // And back: switch to the researcher, whose run is there again.
    await page.getByRole('button', { name: 'Switch user' }).click();
    await signInAs(page, 'researcher');
    assert.ok((await historyRunIds(page)).includes(runId), 'back as the researcher, the run is listed');

    // Signing out locally returns to the default researcher.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page
      .locator('[data-testid=account][data-user=researcher][data-signed-in=false]')
      .waitFor({ timeout: 15_000 });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('qd.auth.tokens')), null, 'no tokens are left');
    assert.equal(
      await page.evaluate(
        () => localStorage.length === 0 || !Object.keys(localStorage).some((k) => k.startsWith('qd.auth')),
      ),
      true,
    );
  },

  async watch_on_a_schedule({ context }) {
    // A succeeded run watched on a schedule: a too-frequent one is refused against the Schedule
    // input (the API's 400), a daily one in Paris time is created; the watch is then listed.
    const page = await context.newPage();
    const card = await suggest(page, BASE, PROMPT);
    await card.getByTestId('run-button').click();
    await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
    const runId = new URL(page.url()).searchParams.get('id');
    assert.equal(await waitTerminal(page), 'succeeded');
    await page.getByTestId('watch-button').click();
    await page.getByRole('radio', { name: /on a schedule/ }).check();
    await page.getByLabel('Schedule', { exact: true }).fill('rate(5 minutes)');
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByTestId('watch-save').click();
    const refusal = page.getByTestId('watch-schedule-error');
    await refusal.waitFor({ timeout: 15_000 });
    assert.match(await refusal.textContent(), /minimum is \d+ minutes/);
    assert.equal(await page.getByLabel('Schedule', { exact: true }).getAttribute('aria-invalid'), 'true');
    const blocking = (await axeAudit(page)).filter((v) => BLOCKING_IMPACTS.has(v.impact));
    assert.deepEqual(blocking, [], describeViolations('watch form', blocking));
    await shot(page, '25-watch-schedule-refused');
    await page.getByLabel('Schedule', { exact: true }).fill('rate(1 day)');
    await page.getByTestId('watch-save').click();
    await page.getByTestId('watching').waitFor({ timeout: 15_000 });
    assert.match(await page.getByTestId('watching').textContent(), /rate\(1 day\) \(Europe\/Paris\)/);
    const listed = await (await page.request.get(`${BASE}/analysis/watches`)).json();
    const watch = listed.watches.find((w) => w.source_run_id === runId);
    assert.deepEqual([watch?.trigger.schedule, watch?.trigger.timezone], ['rate(1 day)', 'Europe/Paris']);
    await page.request.delete(`${BASE}/analysis/watches/${watch.watch_id}`);
  },

  async report_and_cached_run({ context }) {
    // A run, its report opened in a new tab; the same request again is answered from the cache
    // ("cached from …"), and "Run fresh" computes it anew.
    const page = await context.newPage();
    const card = await suggest(page, BASE, PROMPT);
    await card.getByTestId('run-button').click();
    await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
    const firstId = new URL(page.url()).searchParams.get('id');
    assert.equal(await waitTerminal(page), 'succeeded');
    const first = await (await page.request.get(`${BASE}/analysis/runs/${firstId}`)).json();
    const source = first.cached ? first.cached_from : firstId;

    const [report] = await Promise.all([context.waitForEvent('page'), page.getByTestId('open-report').click()]);
    await report.waitForLoadState('load');
    assert.match(await report.title(), /quantdesk report/);
    await report.locator('h2', { hasText: 'Manifest' }).waitFor();
    assert.ok((await report.locator('svg').count()) > 0, 'the report draws its charts inline');
    const fetched = await report.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    assert.deepEqual(fetched, [], 'the report loads nothing besides itself');
    await shot(report, '21-report');
    await report.close();

    // The same card again: a cached run, at once, linking the run that computed it.
    const again = await suggest(page, BASE, PROMPT);
    await again.getByTestId('run-button').click();
    await page.waitForURL((url) => url.searchParams.get('id') && url.searchParams.get('id') !== firstId, {
      timeout: 30_000,
    });
    const cachedId = new URL(page.url()).searchParams.get('id');
    const note = page.getByTestId('cached-note');
    await note.waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('cached-from').textContent(), source);
    assert.equal(await waitTerminal(page, cachedId), 'succeeded');
    await page.getByTestId('result-table').waitFor({ timeout: 30_000 });
    const blocking = (await axeAudit(page)).filter((v) => BLOCKING_IMPACTS.has(v.impact));
    assert.deepEqual(blocking, [], describeViolations('cached run', blocking));
    await shot(page, '22-run-cached');

    // Run fresh: a new run that computes (passes through running), not cached.
    await page.getByTestId('run-fresh').click();
    await page.waitForURL((url) => url.searchParams.get('id') !== cachedId, { timeout: 30_000 });
    const freshId = new URL(page.url()).searchParams.get('id');
    assert.equal(await waitTerminal(page, freshId), 'succeeded');
    const fresh = await assertTimelineMatchesServer(page, BASE, freshId);
    assert.equal(fresh.cached, false);
    assert.ok(
      fresh.timeline.some((e) => e.status === 'running'),
      'the fresh run computed',
    );
    assert.equal(await page.getByTestId('cached-note').count(), 0);

    // History marks the cached run.
    await page.goto(`${BASE}/history/`);
    const row = page.locator(`[data-testid=history-table] tr[data-run-id="${cachedId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.locator('.badge-cached').waitFor();
  },

  async keyboard_only_flow({ context }) {
    // Only the keyboard, from an empty prompt to a sorted result table; focus is visible at every stop.
    const page = await context.newPage();
    await page.goto(`${BASE}/`);
    await page.getByTestId('prompt-input').waitFor();

    // The first Tab stop is a visible skip link; Enter on it moves focus to the main content.
    const skip = await tabUntil(page, () => true, 'the first Tab stop');
    assert.match(skip.label, /Skip to content/, `the first Tab stop is the skip link, not ${skip.label}`);
    await shotHere(page, '14-keyboard-skip-link');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'the skip link moved focus to <main>');

    // Type the prompt and submit it with the button.
    await tabUntil(page, (f) => f.testid === 'prompt-input', 'the prompt box');
    await page.keyboard.type(PROMPT);
    await tabUntil(page, (f) => f.testid === 'suggest-submit', 'the Suggest button');
    await page.keyboard.press('Enter');
    await page.getByTestId('scenario-card').first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.activeElement?.id === 'suggestions-title', null, { timeout: 5_000 });

    // Tab to the first card's Run button; Shift+Tab leaves it and Tab comes back.
    await tabUntil(page, (f) => f.testid === 'run-button', "the first card's Run button");
    await page.keyboard.press('Shift+Tab');
    const before = await assertVisibleFocus(page, 'Shift+Tab from the Run button');
    assert.notEqual(before.testid, 'run-button', 'Shift+Tab moved focus back');
    await page.keyboard.press('Tab');
    assert.equal((await assertVisibleFocus(page, 'Tab back to the Run button')).testid, 'run-button');
    const firstCard = await page.getByTestId('scenario-card').first().getAttribute('data-scenario-id');
    assert.equal(
      await page.evaluate(
        () =>
          document.activeElement?.closest('[data-testid=scenario-card]') ===
          document.querySelector('[data-testid=scenario-card]'),
      ),
      true,
      `the Run button of the first card (${firstCard})`,
    );
    await shotHere(page, '15-keyboard-run-button');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
    // Focus starts on the new page (its heading, or <main> while it loads), not on body or a
    // control of the page left behind: the next Tab goes to the run page's first control.
    await page.waitForFunction(() => document.activeElement?.matches('#main, #main h1'), null, { timeout: 5_000 });
    assert.equal(await waitTerminal(page), 'succeeded');
    await page.getByTestId('result-table').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid=run-connection][data-connection=closed]').waitFor({ timeout: 30_000 });
    assert.equal(
      await page.evaluate(() => document.activeElement?.matches('#main, #main h1')),
      true,
      'focus stayed at the top of the run page while events arrived',
    );

    // A chart's legend entry is a toggle button: Space hides its series, Enter shows it again.
    const entry = await tabUntil(page, (f) => f.legend, 'a chart legend entry');
    const pressed = () => page.evaluate(() => document.activeElement?.getAttribute('aria-pressed'));
    assert.equal(await pressed(), 'true', `${entry.label} starts shown`);
    await page.keyboard.press('Space');
    assert.equal(await pressed(), 'false', `Space hid ${entry.label}`);
    await shotHere(page, '16-keyboard-legend-toggled');
    await page.keyboard.press('Enter');
    assert.equal(await pressed(), 'true', `Enter showed ${entry.label} again`);

    // Tab to the result table's first numeric column header and sort it with Enter, then Space.
    const header = page.locator('[data-testid=result-table] thead th.num').first();
    const headerText = (await header.textContent()).trim();
    await tabUntil(
      page,
      (f) => f.tag === 'button' && f.label.includes(headerText.replace(/[▲▼↕]/g, '').trim()),
      `the "${headerText}" sort button`,
    );
    assert.equal(
      await page.evaluate(() => Boolean(document.activeElement?.closest('[data-testid=result-table] thead'))),
      true,
      'focus is in the table header',
    );
    const rows = await page.locator('[data-testid=result-table] tbody tr').count();
    assert.equal(await header.getAttribute('aria-sort'), 'none');
    await page.keyboard.press('Enter');
    const first = await header.getAttribute('aria-sort');
    assert.ok(['ascending', 'descending'].includes(first), `Enter sorted the column (aria-sort=${first})`);
    await page.keyboard.press('Space');
    const second = await header.getAttribute('aria-sort');
    assert.equal(second, first === 'ascending' ? 'descending' : 'ascending', 'Space reversed the sort');
    await assertVisibleFocus(page, 'the sort button after sorting');
    assert.equal(await page.locator('[data-testid=result-table] tbody tr').count(), rows, 'sorting keeps every row');
    const values = await page
      .locator('[data-testid=result-table] tbody tr')
      .evaluateAll(
        (trs, col) => trs.map((tr) => tr.children[col]?.textContent ?? ''),
        await header.evaluate((th) => th.cellIndex),
      );
    const nums = values
      .map((v) => Number(v.replace(/[^0-9.+-]/g, '')))
      .filter((n) => Number.isFinite(n) && !Number.isNaN(n));
    const ordered = nums.every((n, i) => i === 0 || (second === 'ascending' ? nums[i - 1] <= n : nums[i - 1] >= n));
    assert.ok(ordered, `rows are ${second} by ${headerText}: ${values.join(', ')}`);
    await shotHere(page, '17-keyboard-sorted');
  },

  async prompt_analytics({ context }) {
    // A new user (so the figures are theirs alone) asks a one-word prompt and runs its second card.
    const page = await context.newPage();
    await page.goto(`${BASE}/analytics/`);
    await page.getByRole('button', { name: 'Switch user' }).click();
    await signInAs(page, `analytics-${Date.now().toString(36)}`);
    await page.goto(`${BASE}/`);
    await page.getByTestId('prompt-input').fill('momentum');
    await page.getByTestId('suggest-submit').click();
    const second = page.getByTestId('scenario-card').nth(1);
    await second.waitFor({ timeout: 30_000 });
    const chosen = await second.getAttribute('data-scenario-id');
    if ((await second.locator('details.inputs[open]').count()) === 0)
      await second.locator('details.inputs > summary').click();
    await second.getByTestId('run-button').click();
    await page.waitForURL(/\/run\/\?id=/, { timeout: 30_000 });
    // The analytics page counts the prompt, its choice at rank 2, and lists it as not ranked first.
    await page.getByRole('link', { name: 'Analytics' }).click();
    const summary = page.getByTestId('analytics-summary');
    await summary.waitFor({ timeout: 15_000 });
    assert.match(await summary.textContent(), /Prompts1/);
    assert.match(await summary.textContent(), /Followed by a run1/);
    const rates = await page.getByRole('img', { name: /Choice rate by rank/ }).getAttribute('aria-label');
    assert.match(rates, /#2: 100%/, rates);
    const notFirst = page.getByTestId('not-first');
    assert.match(await notFirst.textContent(), new RegExp(`momentum.*${chosen} \\(#2\\)`));
    const violations = (await axeAudit(page)).filter((v) => BLOCKING_IMPACTS.has(v.impact));
    assert.equal(
      violations.length,
      0,
      `the analytics page is accessible:\n${describeViolations('analytics', violations)}`,
    );
    await shot(page, '24-prompt-analytics');
    // A bad window is refused on its field, and the page keeps the last report.
    await page.getByLabel('From').fill('2099-01-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('alert').filter({ hasText: 'from must not be after to' }).waitFor();
    assert.equal(await page.getByLabel('From').getAttribute('aria-invalid'), 'true');
    assert.match(await summary.textContent(), /Prompts1/);
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
    console.log(
      `FAIL ${name} (${Date.now() - started} ms)\n  ${String(err?.stack ?? err)
        .split('\n')
        .slice(0, 6)
        .join('\n  ')}`,
    );
    for (const page of context.pages()) await shot(page, `FAIL-${name}`).catch(() => undefined);
  } finally {
    await context.close();
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
