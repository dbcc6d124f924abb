// The depot figures of issue 19: one twcgw process serving N charge points (chargePoints), each its own
// RS-485 bus of three simulated slaves (one twc-sim per bus over TCP, two cars plugged) and its own
// OCPP 1.6J websocket to one loopback central system (ocpp-rpc, heartbeat 60 s, MeterValues every
// 60 s). For each N (16 and 64 by default) it waits until every charge point is booted with its two
// transactions running, lets it settle, then measures over a window: RSS, peak RSS, private memory
// (smaps_rollup), CPU seconds per hour and wake-ups per second of twcgw, each also per bus, beside the
// targets (<= 32 MiB RSS for 64 buses, <= 1 MiB private per bus, <= 0.01 CPU-s/min per bus).
//
//   node bench/bench_depot.mjs [--build DIR] [--counts 16,64] [--window S] [--settle S] [--quick] [--json FILE]
//
// TWCGW_BIN and TWCSIM_BIN override the binaries. Exits 1 if anything fails to start.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { live, mib, nowMs, rollupKiB, schedMs, sleep, spawnProc, statusKiB, stop, switches, waitFor, waitOut } from './lib.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// ocpp-rpc is installed for the conformance runner (as bench_cp.mjs uses it).
const require = createRequire(path.join(root, 'conformance/package.json'));
const { RPCServer } = require('ocpp-rpc');

function usage(msg) {
  if (msg) console.error(`bench_depot: ${msg}`);
  console.error('usage: node bench/bench_depot.mjs [--build DIR] [--counts 16,64] [--window S] [--settle S] [--quick] [--json FILE]');
  process.exit(2);
}

const opt = { build: 'build', counts: [16, 64], window: 180, settle: 30, json: null };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const num = () => {
    const v = Number(process.argv[++i]);
    if (!Number.isFinite(v) || v <= 0) usage(`${a} needs a positive number`);
    return v;
  };
  if (a === '--build') opt.build = process.argv[++i] ?? usage('--build needs a directory');
  else if (a === '--counts') {
    opt.counts = String(process.argv[++i] ?? '').split(',').map(Number);
    if (!opt.counts.length || opt.counts.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) usage('--counts: 1..64, comma separated');
  } else if (a === '--window') opt.window = num();
  else if (a === '--settle') opt.settle = num();
  else if (a === '--quick') Object.assign(opt, { window: 20, settle: 5 });
  else if (a === '--json') opt.json = process.argv[++i] ?? usage('--json needs a file');
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown option ${a}`);
}

const TWCGW = process.env.TWCGW_BIN || path.resolve(root, opt.build, 'bin/twcgw');
const TWCSIM = process.env.TWCSIM_BIN || path.resolve(root, opt.build, 'bin/twc-sim');
const log = (s) => process.stderr.write(`bench_depot: ${s}\n`);

// ---- the central system -----------------------------------------------------------------------

// Accepts every charge point (60 s heartbeat) and answers all it sends; counts by charge point.
class Csms {
  constructor() {
    this.server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: false, pingIntervalMs: 0, callTimeoutMs: 30000 });
    this.cps = new Map(); // identity -> { boots, starts, calls, closes }
    this.tx = 0;
    this.server.on('client', (client) => {
      const c = this.cps.get(client.identity) || { boots: 0, starts: 0, calls: 0, closes: 0 };
      this.cps.set(client.identity, c);
      client.on('close', () => { c.closes++; });
      client.handle(({ method }) => {
        c.calls++;
        const now = new Date().toISOString();
        switch (method) {
          case 'BootNotification': c.boots++; return { status: 'Accepted', currentTime: now, interval: 60 };
          case 'Heartbeat': return { currentTime: now };
          case 'Authorize': return { idTagInfo: { status: 'Accepted' } };
          case 'StartTransaction': c.starts++; return { transactionId: ++this.tx, idTagInfo: { status: 'Accepted' } };
          case 'StopTransaction': return { idTagInfo: { status: 'Accepted' } };
          case 'DataTransfer': return { status: 'Rejected' };
          default: return {};
        }
      });
    });
  }
  async listen() {
    this.http = await this.server.listen(0, '127.0.0.1');
    return `ws://127.0.0.1:${this.http.address().port}/ocpp`;
  }
  sum(k) { let n = 0; for (const c of this.cps.values()) n += c[k]; return n; }
  async close() { await this.server.close({ force: true, awaitPending: false }); }
}

// ---- one run ----------------------------------------------------------------------------------

async function startSims(n) {
  const sims = [];
  for (let i = 0; i < n; i++) {
    const p = spawnProc(TWCSIM, ['--tcp', '0', '--seed', String(100 + i), '--slaves', '3', '--plug', '0,1'], `twc-sim ${i + 1}`);
    sims.push(p);
  }
  for (const p of sims) p.port = `tcp://${(await waitOut(p, /^ready tcp (\S+)/m, 10000))[1]}`;
  return sims;
}

function writeConfig(dir, sims, url) {
  const file = path.join(dir, 'twcgw.json');
  writeFileSync(file, JSON.stringify({
    dataDir: path.join(dir, 'data'),
    log: { level: 'warn' },
    ocpp: { url, idTag: { source: 'fixed', fixed: 'BENCHTAG' }, keys: { MeterValueSampleInterval: 60 } },
    chargePoints: sims.map((s, i) => ({
      chargeBoxId: `DEPOT-${i + 1}`,
      twc: { port: s.port, wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32, minAmpsPerTWC: 6 },
    })),
  }, null, 2));
  return file;
}

async function runDepot(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twcgw-bench-depot-'));
  const csms = new Csms();
  let gw;
  const r = { chargePoints: n };
  try {
    const url = await csms.listen();
    const sims = await startSims(n);
    gw = spawnProc(TWCGW, ['-c', writeConfig(dir, sims, url)], 'twcgw');
    const t0 = nowMs();
    await waitFor(`${n} charge points booted`, () => csms.sum('boots') >= n || gw.exited, 60000, 200);
    if (gw.exited) throw new Error(`twcgw exited: ${gw.out.slice(-1500)}`);
    r.bootAllSec = (nowMs() - t0) / 1000;
    // Two cars per bus: two running transactions each, so MeterValues flow as in service.
    await waitFor(`${2 * n} StartTransactions`, () => csms.sum('starts') >= 2 * n, 120000, 200);
    r.txAllSec = (nowMs() - t0) / 1000;
    log(`${n}: all booted in ${r.bootAllSec.toFixed(1)} s, ${2 * n} transactions in ${r.txAllSec.toFixed(1)} s; settling ${opt.settle} s`);
    await sleep(opt.settle * 1000);
    const pid = gw.child.pid;
    const simPids = sims.map((s) => s.child.pid);
    const a = { t: nowMs(), sched: schedMs(pid), sw: switches(pid), sims: simPids.reduce((x, p) => x + schedMs(p), 0), calls: csms.sum('calls') };
    const rss = [];
    const endAt = a.t + opt.window * 1000;
    while (nowMs() < endAt) {
      rss.push(statusKiB(pid, 'VmRSS'));
      await sleep(Math.min(5000, Math.max(0, endAt - nowMs())));
    }
    const b = { t: nowMs(), sched: schedMs(pid), sw: switches(pid), sims: simPids.reduce((x, p) => x + schedMs(p), 0), calls: csms.sum('calls') };
    const sec = (b.t - a.t) / 1000;
    const roll = rollupKiB(pid);
    Object.assign(r, {
      seconds: sec,
      rssMiB: mib(rss[rss.length - 1]),
      rssMinMiB: mib(Math.min(...rss)),
      rssMaxMiB: mib(Math.max(...rss)),
      hwmMiB: mib(statusKiB(pid, 'VmHWM')),
      privateMiB: mib(roll.private),
      sharedMiB: mib(roll.shared),
      cpuSecPerHour: ((b.sched - a.sched) / 1000) * (3600 / sec),
      wakeupsPerSec: (b.sw - a.sw) / sec,
      simsCpuSecPerHour: ((b.sims - a.sims) / 1000) * (3600 / sec),
      ocppCallsPerMin: ((b.calls - a.calls) / sec) * 60,
      reconnects: csms.sum('closes'),
      alive: gw.exited === null,
    });
    log(`${n}: ${JSON.stringify(r)}`);
    return r;
  } finally {
    await stop(gw);
    await Promise.all([...live].map(stop));
    await csms.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the table --------------------------------------------------------------------------------

function table(rows, single) {
  const f2 = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
  const f3 = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  const yes = (ok) => (ok ? 'met' : 'MISSED');
  const out = [['figure', 'measured', 'target', '']];
  for (const r of rows) {
    const n = r.chargePoints;
    const perBusPrivate = n > 1 && single ? (r.privateMiB - single.privateMiB) / (n - 1) : r.privateMiB / n;
    out.push([`${n} charge point${n > 1 ? 's' : ''}: RSS, steady`, `${f2(r.rssMiB)} MiB (${f2(r.rssMinMiB)}-${f2(r.rssMaxMiB)}; peak ${f2(r.hwmMiB)})`,
      n === 64 ? '<= 32 MiB' : '', n === 64 ? yes(r.rssMiB <= 32) : '']);
    // Per bus: what each bus beyond the first adds (the first also carries the process's own).
    out.push([`${n}: private memory`, `${f2(r.privateMiB)} MiB (shared ${f2(r.sharedMiB)})${n > 1 ? `; ${f2(perBusPrivate)} MiB per added bus` : ''}`,
      '<= 1 MiB per bus', n > 1 ? yes(perBusPrivate <= 1) : '']);
    out.push([`${n}: CPU, steady`, `${f2(r.cpuSecPerHour)} CPU-s/h (${f3(r.cpuSecPerHour / 60 / n)} CPU-s/min per bus)`, '<= 0.01 CPU-s/min per bus', yes(r.cpuSecPerHour / 60 / n <= 0.01)]);
    out.push([`${n}: wake-ups`, `${f2(r.wakeupsPerSec)}/s (${f2(r.wakeupsPerSec / n)} per bus)`, '', '']);
    out.push([`${n}: OCPP`, `${f2(r.ocppCallsPerMin)} CALL/min over ${n} links, ${r.reconnects} reconnects; twc-sims ${f2(r.simsCpuSecPerHour)} CPU-s/h`, '', '']);
    if (single && n > 1) out.push([`${n}: RSS per added bus`, `${f2((r.rssMiB - single.rssMiB) / (n - 1))} MiB`, '', '']);
  }
  const w = out[0].map((_, i) => Math.max(...out.map((row) => row[i].length)));
  return out.map((row, k) => {
    const line = `| ${row.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
    return k === 0 ? `${line}\n|${w.map((x) => '-'.repeat(x + 2)).join('|')}|` : line;
  }).join('\n');
}

async function main() {
  for (const bin of [TWCGW, TWCSIM]) {
    if (spawnSync(bin, ['--help']).error) { console.error(`bench_depot: cannot run ${bin}`); process.exit(1); }
  }
  const res = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() }, opt, runs: [] };
  // One charge point in the same form first: what every further bus adds is measured against it.
  log(`1 charge point (reference), window ${opt.window} s`);
  const single = await runDepot(1);
  for (const n of opt.counts) {
    log(`${n} charge points, window ${opt.window} s`);
    res.runs.push(await runDepot(n));
  }
  res.single = single;
  console.log(`\nDepot: N charge points of 3 simulated slaves each in one twcgw (${path.relative(root, TWCGW)}), window ${opt.window} s, settle ${opt.settle} s`);
  console.log(table([single, ...res.runs], single));
  if (opt.json) writeFileSync(opt.json, JSON.stringify(res, null, 2));
}

main().catch(async (e) => {
  console.error(`bench_depot: ${e.message}`);
  await Promise.all([...live].map(stop));
  process.exit(1);
});
