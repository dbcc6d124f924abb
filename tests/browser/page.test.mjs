// The status page in a real browser: starts the real twcgw demo with its HTTP server
// (`twcgw --demo --demo-http 127.0.0.1:0`, TWCGW_BIN), opens the page in Debian's chromium (CHROMIUM_BIN,
// default /usr/bin/chromium) through playwright-core and checks what the issue promises: the viewport
// meta, nothing loaded from another host, live values without a reload, "charging" and "N A" texts, the
// chart, a mode change made in the page that the simulated bus follows, and no sideways scroll on a
// phone. Writes a 1280x900 screenshot to TWCGW_SCREENSHOT when that is set. A depot (two chargePoints,
// each a twc-sim bus over TCP; twc-sim is taken from beside TWCGW_BIN) shows a section per charge point
// and its settings act on the charge point chosen in the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.TWCGW_BIN;
const CHROME = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const AMPS = /^-?\d+(\.\d+)? ?A$/;

let proc;
let out = '';
let base;
let browser;
let page;
const requests = [];
const problems = [];

// Resolves with the page URL once the demo prints it; rejects if it exits first or stays silent.
function startDemo() {
  return new Promise((resolve, reject) => {
    proc = spawn(BIN, ['--demo', '--demo-http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => reject(new Error('no "status page:" line within 30 s:\n' + out.slice(-2000))), 30000);
    const onData = (d) => {
      out = (out + d).slice(-200000); // the demo's table keeps coming: keep the tail only
      const m = out.match(/status page: (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', onData);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => { out = (out + d).slice(-200000); });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`twcgw exited (${code ?? sig}) before serving the page:\n${out.slice(-2000)}`));
    });
  });
}

async function api(path, init) {
  const r = await fetch(new URL(path, base), init);
  const body = await r.json();
  return { status: r.status, body };
}

async function until(what, fn, ms) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

before(async () => {
  assert.ok(BIN, 'TWCGW_BIN must name the twcgw binary');
  base = await startDemo();
  browser = await chromium.launch({
    executablePath: CHROME,
    headless: true,
    // Chromium's sandbox refuses to run as root (CI does); the page is our own, so nothing is lost.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  // The 400 the refused-setting test asks for is logged by chromium as a failed load; nothing else may be.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 400/.test(m.text())) problems.push('console: ' + m.text());
  });
  await page.goto(base);
  await page.evaluate(() => { window.__sameDocument = true; });
});

after(async () => {
  if (browser) await browser.close();
  if (proc && proc.exitCode === null) {
    proc.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 5000);
      proc.on('exit', () => { clearTimeout(t); r(); });
    });
  }
});

test('the page declares the phone viewport', async () => {
  const content = await page.getAttribute('meta[name=viewport]', 'content');
  assert.equal(content, 'width=device-width, initial-scale=1');
});

test('connector cards, the bus and the chart come from the API', async () => {
  const { body: s } = await api('api/v1/status');
  assert.ok(s.connectors.length > 0, 'the demo has no connector');
  await page.waitForSelector('.conn', { timeout: 15000 });
  const n = await page.locator('.conn').count();
  assert.equal(n, s.connectors.length);
  // One charge point: the page looks as it always did, without the depot's section per charge point.
  assert.equal(s.chargePoints.length, 1);
  assert.equal(await page.locator('#depot').isHidden(), true);
  assert.equal(await page.locator('#depot-list .cp').count(), 0);
  // The wiring limit is a number followed by A, the same number the API gives.
  await page.waitForFunction(() => /\d A/.test(document.getElementById('b-wiring').textContent), null, { timeout: 10000 });
  const wiring = await page.textContent('#b-wiring');
  assert.ok(wiring.includes(s.bus.wiringMaxAmpsAllTWCs + ' A'), wiring);
  for (const id of ['#b-held', '#b-offered', '#b-measured', '.conn .big']) {
    const t = (await page.locator(id).first().textContent()).trim();
    assert.match(t, AMPS, `${id} shows "${t}"`);
  }
  await page.waitForSelector('#chart canvas', { timeout: 15000 });
  assert.ok(await page.locator('#chart canvas').count() >= 1);
});

test('values change live without a reload', async () => {
  const clock0 = await page.textContent('#clock');
  const points0 = Number(await page.getAttribute('#chart', 'data-points'));
  await page.waitForFunction((c) => document.getElementById('clock').textContent !== c, clock0, { timeout: 20000 });
  await page.waitForFunction((p) => Number(document.getElementById('chart').dataset.points) > p, points0,
    { timeout: 90000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
});

test('mode change made in the page reaches the bus', async () => {
  const { body: s0 } = await api('api/v1/status');
  const { body: set } = await api('api/v1/settings');
  assert.ok(set.modes.includes('charge-now'), 'the demo cannot charge now: ' + set.modes);
  await page.selectOption('#mode', 'charge-now');
  await page.click('#apply-policy');
  const s = await until('policy.mode charge-now and the bus following', async () => {
    const { body } = await api('api/v1/status');
    const moved = body.bus.heldAmps !== s0.bus.heldAmps || body.bus.offeredAmps !== s0.bus.offeredAmps;
    return body.policy.mode === 'charge-now' && (moved || s0.policy.mode === 'charge-now') ? body : null;
  }, 60000);
  assert.equal(s.policy.source, 'page');
  assert.equal(await page.textContent('#policy-error'), '');
  await page.waitForFunction(() => document.getElementById('p-mode').textContent.startsWith('Charge now'), null,
    { timeout: 15000 });

  // A connector the API calls charging says so on its card.
  const charging = await until('a charging connector', async () => {
    const { body } = await api('api/v1/status');
    return body.connectors.find((c) => c.state === 'charging');
  }, 90000);
  await page.waitForFunction((n) => {
    const card = document.querySelector(`.conn[data-connector="${n}"] .state`);
    return card && card.textContent.includes('charging');
  }, charging.connector, { timeout: 15000 });
  const big = (await page.textContent(`.conn[data-connector="${charging.connector}"] .big`)).trim();
  assert.match(big, AMPS);

  if (process.env.TWCGW_SCREENSHOT) {
    await page.evaluate(() => window.scrollTo(0, 0)); // the clicks above scrolled to the controls
    writeFileSync(process.env.TWCGW_SCREENSHOT, await page.screenshot({ fullPage: false }));
  }
});

test('a refused setting shows the API message', async () => {
  const { status } = await api('api/v1/settings/policy', { method: 'PUT' });
  assert.ok(status >= 400, 'a PUT without token or body was accepted');
  // Through the page: a maximum above any wiring, which the API must refuse with its own words.
  const { body: s0 } = await api('api/v1/status');
  const n = s0.connectors[0].connector;
  await page.fill(`#max-${n}`, '999');
  await page.click(`.limit[data-connector="${n}"] button[type=submit]`);
  await page.waitForFunction(() => document.getElementById('limits-error').textContent.length > 0, null,
    { timeout: 10000 });
  const shown = await page.textContent('#limits-error');
  assert.doesNotMatch(shown, /^The gateway/, 'no API message on screen: ' + shown);
  const { body: s1 } = await api('api/v1/status');
  assert.equal(s1.connectors[0].maxAmps, s0.connectors[0].maxAmps, 'the refused maximum was applied');
});

test('a phone screen has no sideways scroll', async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, deviceScaleFactor: 2 });
  const phone = await ctx.newPage();
  phone.on('request', (r) => requests.push(r.url()));
  await phone.goto(base);
  await phone.waitForSelector('.conn', { timeout: 15000 });
  await phone.waitForSelector('#chart canvas', { timeout: 15000 });
  const { sw, iw } = await phone.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
  assert.ok(sw <= iw, `scrollWidth ${sw} > innerWidth ${iw}`);
  await ctx.close();
});

test('nothing came from another host and nothing broke', () => {
  const origin = new URL(base).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:'));
  assert.deepEqual(foreign, []);
  assert.ok(requests.some((u) => u.endsWith('/uPlot.iife.min.js')), 'uPlot was not loaded');
  assert.deepEqual(problems, []);
});

// Spawns @bin and resolves with the first match of @re in its output (and the process).
function spawnUntil(bin, args, re) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${path.basename(bin)}: no ${re} within 20 s:\n${text.slice(-2000)}`)), 20000);
    const onData = (d) => {
      text = (text + d).slice(-100000);
      const m = text.match(re);
      if (m) {
        clearTimeout(timer);
        resolve({ p, m });
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${path.basename(bin)} exited (${code}):\n${text.slice(-2000)}`)); });
  });
}

test('a depot: a section per charge point, settings for the one chosen', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twcgw-page-depot-'));
  const procs = [];
  try {
    const sims = [];
    for (const seed of [41, 42]) {
      const { p, m } = await spawnUntil(path.join(path.dirname(BIN), 'twc-sim'),
        ['--tcp', '0', '--seed', String(seed), '--slaves', '2', '--plug', '0'], /ready tcp (\S+)/);
      procs.push(p);
      sims.push(`tcp://${m[1]}`);
    }
    const cfg = path.join(dir, 'twcgw.json');
    writeFileSync(cfg, JSON.stringify({
      dataDir: path.join(dir, 'data'),
      http: { listen: '127.0.0.1:0' },
      policy: { mode: 'charge-now' },
      chargePoints: sims.map((port, i) => ({ chargeBoxId: `DEPOT-${i + 1}`, twc: { port, wiringMaxAmpsAllTWCs: 20 + 20 * i, wiringMaxAmpsPerTWC: 16 } })),
    }));
    const { p: gw, m } = await spawnUntil(BIN, ['-c', cfg], /status page on \S+ \(port (\d+)\)/);
    procs.push(gw);
    const url = `http://127.0.0.1:${m[1]}/`;
    const settings = async (cp) => (await (await fetch(new URL(`api/v1/settings?chargePoint=${cp}`, url))).json());
    const dp = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const errors = [];
    dp.on('pageerror', (e) => errors.push(e.message));
    await dp.goto(url);
    await dp.waitForSelector('#depot .cp', { timeout: 15000 });
    assert.equal(await dp.locator('#depot').isHidden(), false);
    assert.deepEqual(await dp.locator('#depot-list .cp h3').allTextContents(), ['DEPOT-1', 'DEPOT-2']);
    // Each section shows its own bus: DEPOT-2's wiring is 40 A, and its connectors once heard.
    await dp.waitForFunction(() => /of 40 A/.test(document.querySelector('[data-charge-point="DEPOT-2"]').textContent), null, { timeout: 15000 });
    await dp.waitForFunction(() => document.querySelectorAll('[data-charge-point="DEPOT-2"] tbody tr').length === 2, null, { timeout: 20000 });
    // The settings: DEPOT-2 chosen, mode off applied; DEPOT-1 keeps charge-now.
    assert.equal(await dp.locator('#cp-pick-box').isHidden(), false);
    await dp.selectOption('#cp-pick', 'DEPOT-2');
    await dp.waitForFunction(() => document.getElementById('mode').options.length > 0, null, { timeout: 10000 });
    await dp.selectOption('#mode', 'off');
    await dp.click('#apply-policy');
    await until('DEPOT-2 off', async () => (await settings('DEPOT-2')).policy.value.mode === 'off', 10000);
    assert.equal((await settings('DEPOT-1')).policy.value.mode, 'charge-now');
    assert.equal(await dp.textContent('#policy-error'), '');
    assert.deepEqual(errors, []);
    if (process.env.TWCGW_SCREENSHOT) await dp.screenshot({ path: process.env.TWCGW_SCREENSHOT.replace(/(\.png)?$/, '-depot.png'), fullPage: true });
  } finally {
    for (const p of procs.reverse()) {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => { p.kill('SIGKILL'); r(); }, 5000);
          p.on('exit', () => { clearTimeout(t); r(); });
        });
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
