// What the status page costs the gateway (issue 16): twcgw's RSS and CPU with no HTTP server, with the
// server and nobody connected, and with one page open in headless chromium; the page's weight on first
// load; and how fast the server answers GET /api/v1/status and /metrics. Each scenario runs the real
// twc-sim (three slaves, two cars) and a fresh twcgw, lets it settle, then samples /proc over a window,
// because an idle figure only means something on the same bus load as the baseline.
//
//   node bench/bench_web.mjs [--seconds N | --quick] [--settle S] [--build DIR] [--json FILE]
//
// TWCGW_BIN, TWCSIM_BIN and CHROMIUM_BIN override the binaries. Exits 1 if anything fails to start.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// playwright-core lives with the browser test, not in a package of its own here: no second install.
const { chromium } = await import(path.join(root, 'tests/browser/node_modules/playwright-core/index.mjs'));

function usage(msg) {
  if (msg) console.error(`bench_web: ${msg}`);
  console.error('usage: node bench/bench_web.mjs [--seconds N | --quick] [--settle S] [--build DIR] [--json FILE]');
  process.exit(2);
}

const opt = { seconds: 60, settle: 10, build: 'build', json: null, latencyN: 200, rate: 15 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const num = () => {
    const v = Number(process.argv[++i]);
    if (!Number.isFinite(v) || v <= 0) usage(`${a} needs a positive number`);
    return v;
  };
  if (a === '--seconds') opt.seconds = num();
  else if (a === '--quick') opt.seconds = 15;
  else if (a === '--settle') opt.settle = num();
  else if (a === '--build') opt.build = process.argv[++i] ?? usage('--build needs a directory');
  else if (a === '--json') opt.json = process.argv[++i] ?? usage('--json needs a file');
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown option ${a}`);
}

const TWCGW = process.env.TWCGW_BIN || path.resolve(root, opt.build, 'bin/twcgw');
const TWCSIM = process.env.TWCSIM_BIN || path.resolve(root, opt.build, 'bin/twc-sim');
const CHROME = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const live = new Set(); // every child still running, so a failure anywhere still stops them all

// Starts a child, keeps the tail of its output, and resolves once `readyRe` matches (stdout or stderr).
function start(bin, args, { cwd, readyRe, timeoutMs = 15000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = { child, out: '', exited: null };
    live.add(proc);
    let done = false;
    const timer = setTimeout(() => fail(new Error(`${path.basename(bin)}: not ready within ${timeoutMs} ms`)), timeoutMs);
    function fail(e) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      e.message += `\n${proc.out.slice(-2000)}`;
      reject(e);
    }
    const onData = (d) => {
      proc.out = (proc.out + d).slice(-20000);
      const m = !done && proc.out.match(readyRe);
      if (m) { done = true; clearTimeout(timer); proc.ready = m; resolve(proc); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // A binary that cannot be run gives 'error' and no 'exit': either one ends the process for us.
    proc.exitPromise = new Promise((r) => {
      child.on('exit', (code, signal) => {
        proc.exited = { code, signal };
        live.delete(proc);
        fail(new Error(`${path.basename(bin)} exited (${code ?? signal}) before it was ready`));
        r(proc.exited);
      });
      child.on('error', (e) => {
        proc.exited ??= { code: null, signal: null, error: e.message };
        live.delete(proc);
        fail(new Error(`${bin}: ${e.message}`));
        r(proc.exited);
      });
    });
  });
}

async function stop(proc) {
  if (!proc || proc.exited) return;
  proc.child.kill('SIGTERM');
  const t = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
  await proc.exitPromise;
  clearTimeout(t);
}

function freePort() {
  const s = net.createServer();
  return new Promise((resolve, reject) => {
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// CPU (utime + stime, ms) and resident set (KiB) of one process, straight from /proc.
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}
// The same CPU time in nanoseconds from the scheduler (first field of schedstat, summed over the
// threads): utime+stime counts in 10 ms ticks, too coarse for a process that idles at ~1 ms a second.
function schedMs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
  }
  return ns / 1e6;
}
// Context switches, summed over the threads: an idle event loop's CPU is mostly its wake-ups, so
// their rate says where the CPU goes.
function switches(pid) {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)[1]) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)[1]);
    } catch { /* thread gone */ }
  }
  return n;
}
function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

// Samples RSS every second over the window; CPU is the difference of two readings, so the sampling
// itself (in this process, not twcgw) does not count.
async function sampleWindow(proc, seconds) {
  const pid = proc.child.pid;
  const rss = [];
  const cpu0 = cpuMs(pid);
  const sched0 = schedMs(pid);
  const sw0 = switches(pid);
  const t0 = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  for (let next = Date.now(); next < end; next += 1000) {
    await sleep(Math.max(0, next - Date.now()));
    if (proc.exited) throw new Error(`twcgw exited (${proc.exited.code ?? proc.exited.signal}) during the window`);
    rss.push(rssKiB(pid));
  }
  await sleep(Math.max(0, end - Date.now()));
  if (proc.exited) throw new Error('twcgw exited during the window');
  const cpu1 = cpuMs(pid);
  const sched1 = schedMs(pid);
  const sw1 = switches(pid);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    rssMiB: rss.reduce((a, b) => a + b, 0) / rss.length / 1024,
    rssMinMiB: Math.min(...rss) / 1024,
    rssMaxMiB: Math.max(...rss) / 1024,
    cpuMsPerMin: ((cpu1 - cpu0) / wallS) * 60,
    cpuMs: cpu1 - cpu0,
    schedMsPerMin: ((sched1 - sched0) / wallS) * 60,
    wakeupsPerS: (sw1 - sw0) / wallS,
    wallS,
    samples: rss.length,
  };
}

// One GET on a keep-alive agent; resolves with the status, the body length and the time to its last byte.
function timedGet(agent, port, p) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const rq = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      let bytes = 0;
      res.on('data', (d) => { bytes += d.length; });
      res.on('end', () => resolve({
        status: res.statusCode, bytes, ms: Number(process.hrtime.bigint() - t0) / 1e6, reused: rq.reusedSocket,
      }));
      res.on('error', reject);
    });
    rq.on('error', reject);
    rq.setTimeout(5000, () => rq.destroy(new Error(`GET ${p}: no answer in 5 s`)));
  });
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

// @n sequential GETs of @p paced at @rate per second (under the server's 20/s per-peer limit, so the
// figure is the server's answer time, not its refusals); 429s are counted apart and left out of the times.
async function latency(port, p, n, rate, keepAlive) {
  const agent = new http.Agent({ keepAlive, maxSockets: 1 });
  const ms = [];
  let refused = 0;
  let other = 0;
  let connections = 0;
  let bytes = 0;
  const t0 = Date.now();
  try {
    for (let i = 0; i < n; i++) {
      await sleep(Math.max(0, t0 + (i * 1000) / rate - Date.now()));
      const r = await timedGet(agent, port, p);
      if (!r.reused) connections++;
      if (r.status === 200) { ms.push(r.ms); bytes = r.bytes; } else if (r.status === 429) refused++;
      else other++;
    }
  } finally {
    agent.destroy();
  }
  if (other) throw new Error(`GET ${p}: ${other} answers neither 200 nor 429`);
  if (!ms.length) throw new Error(`GET ${p}: no 200 answer`);
  ms.sort((a, b) => a - b);
  return { path: p, keepAlive, n, ok: ms.length, refused, connections, bytes, median: pct(ms, 0.5), p99: pct(ms, 0.99), max: ms[ms.length - 1] };
}

// Opens the page in a fresh context (empty cache) and records every request through the DevTools
// protocol: `encodedDataLength` at loadingFinished is what came over the socket (headers and body),
// the figure DevTools calls "transferred". The event stream never finishes; its bytes are counted
// separately, per chunk, so the window can report what one open page costs in traffic.
async function openPage(browser, url) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  const reqs = new Map();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  cdp.on('Network.requestWillBeSent', (e) => {
    // data: URLs (an icon inlined in the CSS) never reach the server: not part of its weight.
    if (!e.request.url.startsWith('http')) return;
    if (!reqs.has(e.requestId)) reqs.set(e.requestId, { url: e.request.url, type: e.type, at: Date.now(), body: 0, wire: null, status: null });
  });
  cdp.on('Network.responseReceived', (e) => { const r = reqs.get(e.requestId); if (r) r.status = e.response.status; });
  cdp.on('Network.dataReceived', (e) => {
    const r = reqs.get(e.requestId);
    if (r) { r.body += e.dataLength; r.chunkWire = (r.chunkWire ?? 0) + e.encodedDataLength; }
  });
  cdp.on('Network.loadingFinished', (e) => { const r = reqs.get(e.requestId); if (r) r.wire = e.encodedDataLength; });
  cdp.on('Network.loadingFailed', (e) => { const r = reqs.get(e.requestId); if (r) r.failed = e.errorText; });
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

  const nav = await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  if (!nav || nav.status() !== 200) throw new Error(`page: GET / answered ${nav?.status()}`);
  // Loaded means the page shows what it is for: the connector cards and the chart, both drawn from
  // the API; then a second of quiet for any request the script makes after that.
  await page.waitForSelector('.conn', { timeout: 15000 });
  await page.waitForSelector('#chart canvas', { timeout: 15000 });
  await sleep(1000);
  const loadMs = await page.evaluate(() => Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd));
  const first = [...reqs.values()];
  const stream = first.find((r) => /\/api\/v1\/events/.test(r.url));
  if (!stream || stream.status !== 200) throw new Error('page: no event stream open after the first load');
  const done = first.filter((r) => r !== stream);
  const unfinished = done.filter((r) => r.wire === null || r.failed);
  if (unfinished.length) throw new Error(`page: unfinished or failed on first load: ${unfinished.map((r) => r.url).join(' ')}`);
  if (problems.length) throw new Error(`page: script errors: ${problems.join('; ')}`);
  const weight = {
    requests: first.length,
    wireBytes: done.reduce((a, r) => a + r.wire, 0),
    bodyBytes: done.reduce((a, r) => a + r.body, 0),
    loadMs,
    files: done.map((r) => ({ url: new URL(r.url).pathname + new URL(r.url).search, wire: r.wire, body: r.body })),
    streamBytesAtLoad: stream.chunkWire ?? 0,
  };
  // From here on: what the page asks for and receives while it stays open.
  const mark = () => ({ n: reqs.size, stream: stream.chunkWire ?? 0, at: Date.now() });
  return { ctx, page, weight, reqs, stream, mark, problems };
}

async function scenario(name, { httpOn, withPage, withLatency, browserRef }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-web-'));
  let sim, gw, pg;
  try {
    const tty = path.join(dir, 'tty');
    sim = await start(TWCSIM, ['--pty', tty, '--control', path.join(dir, 'sim.sock'), '--seed', '7',
      '--slaves', '3', '--plug', '0,1', '--ids', '1A2B,3C4D,5E6F'], { cwd: dir, readyRe: /^ready pty (\S+)/m });
    const port = httpOn ? await freePort() : null;
    const cfg = {
      dataDir: path.join(dir, 'data'),
      twc: { port: tty, wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32, minAmpsPerTWC: 6 },
      log: { statusInterval: 60 },
      policy: { mode: 'charge-now' },
      ...(httpOn ? { http: { listen: `127.0.0.1:${port}` } } : {}),
    };
    const cfgFile = path.join(dir, 'twcgw.json');
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    gw = await start(TWCGW, ['-c', cfgFile], { cwd: dir, readyRe: /running with/ });
    if (httpOn) {
      const agent = new http.Agent({ keepAlive: false });
      const r = await timedGet(agent, port, '/api/v1/status');
      if (r.status !== 200) throw new Error(`GET /api/v1/status answered ${r.status}`);
    }
    // The page's first load counts as its weight, not as the open page's steady cost: the settle
    // time starts after it.
    let weight = null;
    if (withPage) {
      pg = await openPage(browserRef.browser, `http://127.0.0.1:${port}/`);
      weight = pg.weight;
    }
    await sleep(opt.settle * 1000);
    const m0 = pg?.mark();
    const s = await sampleWindow(gw, opt.seconds);
    let during = null;
    if (pg) {
      const m1 = pg.mark();
      during = {
        requests: m1.n - m0.n,
        streamBytesPerMin: ((m1.stream - m0.stream) / ((m1.at - m0.at) / 1000)) * 60,
      };
      if (m1.stream === m0.stream) throw new Error('page: no event arrived during the window');
      // The page must still be alive, not only its socket.
      const cards = await pg.page.locator('.conn').count();
      if (cards !== 3) throw new Error(`page: ${cards} connector cards after the window, 3 expected`);
      if (pg.problems.length) throw new Error(`page: script errors while open: ${pg.problems.join('; ')}`);
      await pg.ctx.close();
      pg = null;
    }
    let lat = null;
    if (withLatency) {
      lat = [];
      // Keep-alive is what the brief and a browser use; a new connection each time is what curl and
      // most Prometheus set-ups without keep-alive see, and the two differ (see bench/README.md).
      for (const keepAlive of [true, false]) {
        for (const p of ['/api/v1/status', '/metrics']) lat.push(await latency(port, p, opt.latencyN, opt.rate, keepAlive));
      }
    }
    const simStatus = await new Promise((resolve) => {
      const c = net.createConnection(path.join(dir, 'sim.sock'));
      let buf = '';
      c.on('connect', () => c.write('status\n'));
      c.on('data', (d) => { buf += d; if (buf.includes('\n')) { c.end(); resolve(buf); } });
      c.on('error', () => resolve(''));
    });
    // The figures compare only if every run drove the same bus: three slaves heard, two cars charging.
    let bus;
    try { bus = JSON.parse(simStatus); } catch { throw new Error(`twc-sim status unreadable: ${simStatus}`); }
    const heard = bus.slaves.filter((x) => x.heardMaster).length;
    const charging = bus.slaves.filter((x) => x.charging).length;
    if (heard !== 3 || charging !== 2) throw new Error(`bus not as planned: ${heard} slaves heard the master, ${charging} charging (a longer --settle?)`);
    return { name, ...s, weight, during, latency: lat, bus: { heard, charging, drawnA: bus.stats.drawnTotal } };
  } finally {
    if (pg) await pg.ctx.close().catch(() => {});
    await stop(gw);
    await stop(sim);
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (v, d = 1) => v.toFixed(d);
const signed = (v, d = 1) => {
  const t = v.toFixed(d);
  return Number(t) === 0 ? '+' + (0).toFixed(d) : (v > 0 ? '+' : '') + t; // no "-0" for a tiny negative
};
function table(rows) {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ')).join('\n');
}

async function main() {
  const browserRef = {};
  const results = [];
  try {
    // The browser starts before the measured runs so its own start-up does not land in any window.
    browserRef.browser = await chromium.launch({
      executablePath: CHROME,
      headless: true,
      // Chromium's sandbox refuses to run as root; the page is our own.
      args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
    });
    const plan = [
      ['baseline (no http)', { httpOn: false }],
      ['http, idle', { httpOn: true, withLatency: true }],
      ['http, one page open', { httpOn: true, withPage: true }],
    ];
    for (const [name, o] of plan) {
      process.stderr.write(`bench_web: ${name}: settle ${opt.settle} s, window ${opt.seconds} s\n`);
      results.push(await scenario(name, { ...o, browserRef }));
    }
  } finally {
    if (browserRef.browser) await browserRef.browser.close().catch(() => {});
    for (const p of live) await stop(p);
  }

  const base = results[0];
  console.log(`twcgw ${TWCGW}; twc-sim: 3 slaves, 2 cars, charge-now; settle ${opt.settle} s, window ${opt.seconds} s, ` +
    `RSS sampled each second (MiB = 2^20 B); CPU = utime+stime in ${1000 / CLK_TCK} ms ticks, sched = the same ` +
    'time from /proc/PID/task/*/schedstat in ns, wakeups = context switches\n');
  console.log(table([
    ['scenario', 'RSS MiB', 'delta', 'RSS min-max', 'CPU ms/min', 'delta', 'sched ms/min', 'delta', 'wakeups/s'],
    ...results.map((r) => [r.name, fmt(r.rssMiB, 2), signed(r.rssMiB - base.rssMiB, 2),
      `${fmt(r.rssMinMiB, 2)}-${fmt(r.rssMaxMiB, 2)}`, fmt(r.cpuMsPerMin, 0), signed(r.cpuMsPerMin - base.cpuMsPerMin, 0),
      fmt(r.schedMsPerMin, 1), signed(r.schedMsPerMin - base.schedMsPerMin, 1), fmt(r.wakeupsPerS, 1)]),
  ]));
  const pageRun = results.find((r) => r.weight);
  const w = pageRun.weight;
  console.log(`\npage, first load (empty cache): ${w.requests} requests (${w.requests - 1} files and API calls + the event stream), ` +
    `${w.wireBytes} bytes transferred (headers + bodies), ${w.bodyBytes} bytes of bodies; load event at ${w.loadMs} ms`);
  console.log(table([
    ['  request', 'transferred', 'body'],
    ...w.files.map((f) => ['  ' + f.url, String(f.wire), String(f.body)]),
    ['  /api/v1/events (still open)', String(w.streamBytesAtLoad), '-'],
  ]));
  console.log(`page open over the window: ${pageRun.during.requests} further requests, event stream ` +
    `${fmt(pageRun.during.streamBytesPerMin / 1024, 1)} KiB/min`);
  const latRun = results.find((r) => r.latency);
  console.log(`\nanswer time (request sent to last body byte), ${opt.latencyN} sequential GETs per row, paced at ${opt.rate}/s ` +
    '(the server allows 20/s sustained, 40 burst, per peer); 429s counted apart and not in the times:');
  console.log(table([
    ['  GET', 'connection', 'bytes', 'median ms', 'p99 ms', 'max ms', '200s', '429s', 'connections'],
    ...latRun.latency.map((l) => ['  ' + l.path, l.keepAlive ? 'keep-alive' : 'new each', String(l.bytes), fmt(l.median, 2), fmt(l.p99, 2), fmt(l.max, 2),
      String(l.ok), String(l.refused), String(l.connections)]),
  ]));
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ opt, clkTck: CLK_TCK, results }, null, 2));
}

// Failure unless main says otherwise: a promise left hanging must not exit 0.
process.exitCode = 1;
main().then(() => process.exit(0), (e) => {
  console.error(`bench_web: ${e.stack || e.message}`);
  process.exit(1);
});
