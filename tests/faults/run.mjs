#!/usr/bin/env node
// The fault-injection suite ("prove it survives"): the real twcgw against twc-sim (three Wall
// Connectors behind a TCP bridge) and a central system that misbehaves, all on loopback, while cars
// plug in, are started remotely, charge with MeterValues, are stopped remotely and unplug, on all
// three connectors at once. Faults, in cycles:
//   kill   SIGKILL twcgw at random moments, start it again on the same dataDir, while the central
//          system drops the websocket every few seconds (and now and then right after an answer);
//   bus    twc-sim's echo, noise, bad checksums, a muted slave, a deaf slave, dropped frames, and the
//          TCP bridge dropping and refusing connections;
//   csms   answers late, CALLERRORs, malformed answers, no answers, malformed frames of its own,
//          the central system down;
//   clock  the wall clock jumping forward and back by hours (libfaketime, when installed);
//   disk   the dataDir's file system full, then freed (a small tmpfs in a private user+mount
//          namespace, when unshare allows it), with a kill while full;
//   meter  all along: the energy meter answers garbage, the wrong shape, 2 MB, late, never, resets
//          the connection, or HTTP 500.
// Then a recovery period without faults, every car unplugged, and the figures: transactions started,
// stopped, delivered exactly once, lost and duplicated, crashes, the longest heartbeat gap on the
// bus, the peak held current against the wiring, twcgw's peak RSS. Exits 1 if a must-be-0 figure is
// not 0 or the held peak exceeds the wiring; 2 on a harness error.
//
//   node tests/faults/run.mjs [--short] [--rounds N] [--seed S] [--keep] [-v]
//                             [--twcgw BIN] [--twcsim BIN]
//
// --short: one cycle (8 kill rounds and every other fault once, briefly), for scripts/test.sh.
// Default (or --rounds N): N kill rounds (100), 10 per cycle, each cycle followed by one of the other
// fault phases in turn, each longer than in the short mode.
import { appendFileSync, mkdtempSync, writeFileSync, rmSync, existsSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultCsms } from './csms.mjs';
import {
  sleep, startSim, startBridge, startMeter, startSmallDisk, Gateway, journalLive, FAKETIME_LIB, METER_MODES, writeFileAtomic, asanRuntime,
} from './rig.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const WIRING_TOTAL = 40;
const WIRING_PER_TWC = 32;
const SLAVES = 3;
const CALL_TIMEOUT_S = 5;

// ---------------------------------------------------------------- arguments

function usage(code) {
  console.log(`usage: node tests/faults/run.mjs [--short] [--rounds N] [--seed S] [--keep] [-v] [--twcgw BIN] [--twcsim BIN]
  --short      one short cycle: 8 SIGKILL rounds and each other fault once (a few minutes)
  --rounds N   SIGKILL rounds (default 100), 10 per cycle, each cycle followed by one other fault phase
  --seed S     random seed (default: from the clock; printed)
  --phases L   only these phases, comma-separated: kill,bus,csms,clock,disk (all)
  --keep       keep the temporary directory (config, dataDir, twcgw.log)
  -v           log what happens`);
  process.exit(code);
}

function parseArgs(argv) {
  const a = { short: false, rounds: null, seed: null, keep: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(2); return argv[++i]; };
    switch (k) {
      case '--short': a.short = true; break;
      case '--rounds': a.rounds = Number(val()); break;
      case '--seed': a.seed = Number(val()); break;
      case '--keep': a.keep = true; break;
      case '--phases': a.phases = val().split(',').map((x) => x.trim()).filter(Boolean); break;
      case '--twcgw': a.twcgw = val(); break;
      case '--twcsim': a.twcsim = val(); break;
      case '-v': case '--verbose': a.verbose = true; break;
      case '-h': case '--help': usage(0); break;
      default: console.error(`unknown option ${k}`); usage(2);
    }
  }
  if (a.rounds !== null && !(Number.isInteger(a.rounds) && a.rounds >= 1)) usage(2);
  if (a.rounds === null) a.rounds = a.short ? 8 : 100;
  if (a.seed === null) a.seed = Date.now() % 1000000;
  a.phases = a.phases || ['kill', 'bus', 'csms', 'clock', 'disk'];
  if (a.phases.some((p) => !['kill', 'bus', 'csms', 'clock', 'disk'].includes(p))) usage(2);
  return a;
}

// mulberry32: the same seed, the same choices (the processes' timing still varies).
function makeRng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- the suite

class Suite {
  constructor(args) {
    this.args = args;
    this.rng = makeRng(args.seed);
    this.t0 = Date.now();
    this.phase = 'setup';
    this.notes = [];          // things worth telling (not failures)
    this.kills = 0;
    this.crashes = [];        // runs that ended without our signal
    this.cpStarts = [];       // "transaction -N started" lines: {connector, meter, t, run}
    this.cpStops = [];        // "transaction X stopped" lines
    this.grants = [];         // bus: a slave told >= 6 A after < 6 A: {connector, t, phase}
    this.gap = { maxMs: 0, where: '' };
    this.held = { peak: 0, peakPerTwc: 0, drawnPeak: 0, where: '' };
    this.gapValid = false;
    this.errorLines = new Map(); // twcgw ERROR/WARN lines by text without the time, with counts
    this.connOf = new Map();  // TWC id -> connector
    this.phaseTimes = [];
    this.fakeOffset = '+0';
    this.journalAtKills = [];
    this.slowestRestart = { ms: 0, why: '' };
    this.killKinds = {};
    this.torn = 0;
    this.eventWaiters = [];
  }

  // A driver did something (plug, remote start accepted, remote stop, unplug).
  emit(kind, c) {
    const w = this.eventWaiters;
    this.eventWaiters = [];
    for (const f of w) f(kind, c);
  }

  async nextEventOf(kinds, timeoutMs) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) return null;
      const ev = await this.nextEvent(left);
      if (!ev || kinds.includes(ev.kind)) return ev;
    }
  }

  nextEvent(timeoutMs) {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(null), timeoutMs);
      this.eventWaiters.push((kind, c) => { clearTimeout(t); resolve({ kind, c }); });
    });
  }

  // How a kill round picks its moment: at random; a moment after a car event; or the instant the
  // central system has written its answer to a transaction message (the window between an answer
  // and the journal's record of it).
  killTrigger(short) {
    const r = this.rng();
    if (r < 0.4) {
      const ms = this.rand(1000, short ? 4000 : 12000);
      return async () => { await sleep(ms); return `: at random after ${ms.toFixed(0)} ms`; };
    }
    if (r < 0.75) {
      const delay = this.rand(0, 300);
      return async () => {
        const ev = await this.nextEvent(15000);
        await sleep(delay);
        return ev ? `: ${delay < 30 ? '0-30' : delay < 100 ? '30-100' : '100-300'} ms after ${ev.kind}` : ': no car event within 15 s';
      };
    }
    return () => new Promise((resolve) => {
      const t = setTimeout(() => { this.csms.onTxAnswer = null; resolve(': no transaction answer within 15 s'); }, 15000);
      this.csms.onTxAnswer = (action) => { clearTimeout(t); this.gw.killNow('SIGKILL'); resolve(`: as the ${action} answer was sent`); };
    });
  }

  log(line) {
    if (this.args.verbose) console.log(`${((Date.now() - this.t0) / 1000).toFixed(1).padStart(7)} [${this.phase}] ${line}`);
  }

  rand(lo, hi) { return lo + this.rng() * (hi - lo); }

  async setup() {
    const a = this.args;
    this.bins = {
      twcgw: path.resolve(a.twcgw || process.env.TWCGW_BIN || path.join(root, 'build/bin/twcgw')),
      twcsim: path.resolve(a.twcsim || process.env.TWCSIM_BIN || path.join(root, 'build/bin/twc-sim')),
    };
    for (const b of Object.values(this.bins)) if (!existsSync(b)) throw new Error(`${b} not found: build first`);
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'twcgw-faults-'));
    this.disk = await startSmallDisk(path.join(this.dir, 'disk'), 4096);
    if (!this.disk.supported) {
      this.notes.push(`disk phase skipped: ${this.disk.why}`);
      this.disk = null;
    }
    this.dataDir = path.join(this.disk ? path.join(this.dir, 'disk') : this.dir, 'data');
    this.view = (p) => (this.disk ? this.disk.view(p) : p);
    this.journalFile = this.view(path.join(this.dataDir, 'ocpp-journal'));
    this.fakeTimeOk = !!FAKETIME_LIB && !asanRuntime(this.bins.twcgw);
    if (!FAKETIME_LIB) this.notes.push('clock phase skipped: libfaketime is not installed (Debian package faketime)');
    else if (!this.fakeTimeOk) this.notes.push('clock phase skipped: twcgw is an AddressSanitizer build, which hangs at start under libfaketime');

    this.sim = await startSim(this.bins.twcsim, this.dir, { slaves: SLAVES, seed: a.seed });
    this.bridge = await startBridge(this.sim.host, this.sim.port);
    this.meter = await startMeter();
    this.csms = new FaultCsms({ rng: this.rng, callTimeoutMs: CALL_TIMEOUT_S * 1000, heartbeatInterval: 20, log: (l) => this.log(l) });
    const url = await this.csms.listen();
    this.cfgFile = path.join(this.dir, 'twcgw.json');
    writeFileSync(this.cfgFile, JSON.stringify({
      dataDir: this.dataDir,
      twc: { port: `tcp://127.0.0.1:${this.bridge.port}`, wiringMaxAmpsAllTWCs: WIRING_TOTAL, wiringMaxAmpsPerTWC: WIRING_PER_TWC, minAmpsPerTWC: 6 },
      policy: { mode: 'track-green', fallbackAfter: 86400 },
      ems: [{ type: 'json', url: this.meter.url, pollSeconds: 1, maxAgeSeconds: 5, values: { grid: '/grid', pv: '/pv' } }],
      ocpp: {
        url, chargeBoxId: 'FAULTS-CP', callTimeout: CALL_TIMEOUT_S, idTag: { source: 'remote' },
        keys: {
          HeartbeatInterval: 20, MeterValueSampleInterval: 2, ClockAlignedDataInterval: 10,
          MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Import,Current.Offered',
          StopTxnSampledData: 'Energy.Active.Import.Register', TransactionMessageAttempts: 100,
          TransactionMessageRetryInterval: 1, WebSocketPingInterval: 5, ConnectionTimeOut: 60,
        },
      },
      log: { level: 'info', statusInterval: 30 },
    }, null, 2));
    this.fakeFile = path.join(this.dir, 'faketime.rc');
    writeFileSync(this.fakeFile, '+0\n');
    this.gw = new Gateway({
      bin: this.bins.twcgw, cfgFile: this.cfgFile, logFile: path.join(this.dir, 'twcgw.log'), disk: this.disk,
      fakeTimeFile: this.fakeFile, onExit: (run) => this.onGwExit(run),
    });
    this.gw.onLine = (l, run) => this.onGwLine(l, run);
    this.gw.start();
    this.memTimer = setInterval(() => this.gw.sampleMemory(), 1000);
    this.meterTimer = setInterval(() => { this.meter.mode = METER_MODES[Math.floor(this.rng() * METER_MODES.length)]; }, 3000);
    // Discovery: every slave heartbeated and mapped to a connector.
    const st = await this.waitFor('3 slaves heartbeated and mapped', async () => {
      const s = await this.sim.control('status');
      return s.slaves.every((x) => x.heartbeats > 0) && this.connOf.size === SLAVES ? s : null;
    }, 30000);
    this.slaveOfConn = new Map();
    st.slaves.forEach((x, i) => this.slaveOfConn.set(this.connOf.get(x.id), i));
    this.connOfSlave = (i) => this.connOf.get(st.slaves[i].id);
    this.log(`connectors: ${[...this.slaveOfConn].map(([c, i]) => `${c}=slave ${i}`).join(', ')}`);
    await this.settleStats('start');
    this.sampler = this.startSampler();
  }

  onGwLine(l, run) {
    let m = l.match(/ocpp: connector (\d+) is TWC ([0-9A-F]{4})/);
    if (m) this.connOf.set(m[2], Number(m[1]));
    m = l.match(/^(\S+ \S+) .*ocpp: connector (\d+): transaction (-?\d+) started \(meter (\d+) Wh\)/);
    if (m) this.cpStarts.push({ connector: Number(m[2]), local: Number(m[3]), meter: Number(m[4]), logTime: m[1], t: Date.now(), run: run.n, phase: this.phase, fake: run.fakeTime });
    m = l.match(/^(\S+ \S+) .*ocpp: connector (\d+): transaction (-?\d+) stopped \((\w+), meter (\d+) Wh\)/);
    if (m) this.cpStops.push({ connector: Number(m[2]), tx: Number(m[3]), reason: m[4], meter: Number(m[5]), t: Date.now(), run: run.n });
    m = l.match(/^\S+ \S+ (ERROR|WARN)\s+(.*)$/);
    if (m) {
      const key = `${m[1]} ${m[2].replace(/\d+/g, 'N')}`;
      const e = this.errorLines.get(key) || { n: 0, example: l, phases: new Set() };
      e.n++;
      e.phases.add(this.phase);
      this.errorLines.set(key, e);
    }
  }

  onGwExit(run) {
    if (run.expected) return;
    const why = run.exit.signal ? `signal ${run.exit.signal}` : `exit code ${run.exit.code}`;
    const tail = run.tail.trim().split('\n').slice(-8).join('\n    ');
    this.crashes.push({ run: run.n, why, phase: this.phase, tail });
    console.log(`CRASH: twcgw run ${run.n} ended by itself (${why}) in phase ${this.phase}; last lines:\n    ${tail}`);
    // Keep the suite going: start it again after a moment (unless we are shutting down).
    if (this.crashes.length > 20) { this.stopping = true; this.notes.push('more than 20 crashes: not starting twcgw again'); return; }
    if (!this.stopping) setTimeout(() => { if (!this.gw.proc && !this.stopping) { this.gw.start(); this.settleStats('after a crash').catch(() => {}); } }, 1000);
  }

  async waitFor(what, fn, timeoutMs, stepMs = 200) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      let r = null;
      try { r = await fn(); } catch { r = null; }
      if (r) return r;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await sleep(stepMs);
    }
  }

  // ---- twc-sim figures

  // Poll twc-sim every 250 ms: the held sum and each slave's held limit against the wiring, and
  // every moment a slave is told a limit that lets its car charge after one that did not (current
  // granted: under OCPP only while a transaction runs on its connector).
  startSampler() {
    const s = { running: true, told: new Map(), samples: 0 };
    s.done = (async () => {
      while (s.running) {
        const validAtSend = this.gapValid;
        const st = await this.sim.control('status').catch(() => null);
        if (st) {
          s.samples++;
          this.absorb(st, validAtSend && this.gapValid, 'sample');
          st.slaves.forEach((x, i) => {
            const prev = s.told.get(i) ?? -1;
            if (x.toldAmps >= 6 && prev < 6) this.grants.push({ connector: this.connOfSlave(i), slave: i, t: Date.now(), phase: this.phase, fake: this.gw.fakeTime, amps: x.toldAmps });
            s.told.set(i, x.toldAmps);
          });
        }
        await sleep(250);
      }
    })();
    return s;
  }

  // Take a status sample's figures: the held peak always, the heartbeat gaps only while the window
  // is valid (no kill, deaf slave or bridge outage since the last settle).
  absorb(st, gapsValid, why) {
    const where = `${this.phase} (${why})`;
    const peak = Math.max(st.stats.maxHeldTotal, st.stats.heldTotal);
    if (peak > this.held.peak) { this.held.peak = peak; this.held.where = where; }
    for (const x of st.slaves) if (x.heldAmps > this.held.peakPerTwc) this.held.peakPerTwc = x.heldAmps;
    if (st.stats.maxDrawnTotal > this.held.drawnPeak) this.held.drawnPeak = st.stats.maxDrawnTotal;
    if (peak > WIRING_TOTAL && !this.held.violation) {
      this.held.violation = `${where}: held ${st.stats.heldTotal} A, max ${st.stats.maxHeldTotal} A: ${st.slaves.map((x) => `${x.id} held ${x.heldAmps} told ${x.toldAmps}`).join('; ')}`;
      console.log(`WIRING: ${this.held.violation}`);
    }
    if (gapsValid) {
      for (const x of st.slaves) {
        if (x.maxGapMs > this.gap.maxMs) { this.gap.maxMs = x.maxGapMs; this.gap.where = `slave ${x.id}, ${where}`; }
      }
    }
  }

  // Before a kill or a fault that silences the bus: take the figures, stop counting gaps.
  async harvest(why) {
    const valid = this.gapValid;
    this.gapValid = false;
    const st = await this.sim.control('status').catch(() => null);
    if (st) this.absorb(st, valid, why);
  }

  // After one: reset twc-sim's figures, wait until every slave has been heartbeated again, then reset
  // once more, so that the gap figure counts only time twcgw was running and able to reach them.
  async settleStats(why, timeoutMs = 40000) {
    await this.harvest(why);
    await this.sim.ok('reset-stats');
    const t = Date.now();
    try {
      await this.waitFor(`every slave heartbeated (${why})`, async () => {
        const s = await this.sim.control('status');
        return s.slaves.every((x) => x.heartbeats >= 1) ? s : null;
      }, timeoutMs, 100);
    } catch (err) {
      this.notes.push(`${this.phase}: ${err.message}`);
    }
    if (/^restart/.test(why) && this.gw.proc) {
      const ms = Date.now() - this.gw.proc.startedAt;
      if (ms > this.slowestRestart.ms) this.slowestRestart = { ms, why };
    }
    const st = await this.sim.control('status');
    this.absorb(st, false, why);
    await this.sim.ok('reset-stats');
    this.gapValid = true;
  }

  // ---- cars

  // One driver per connector: plug, RemoteStartTransaction, charge with MeterValues, then a remote
  // stop and an unplug, or an unplug alone; again and again until stopped.
  startDrivers() {
    this.driving = true;
    this.tagSeq = this.tagSeq || 0;
    this.drivers = [...this.slaveOfConn.keys()].map((c) => this.drive(c));
  }

  async stopDrivers() {
    this.driving = false;
    await Promise.all(this.drivers || []);
  }

  async drive(c) {
    const slave = this.slaveOfConn.get(c);
    const nap = async (lo, hi) => { await sleep(this.rand(lo, hi)); return this.driving; };
    while (this.driving) {
      const tag = `FT${(++this.tagSeq).toString(36).toUpperCase()}C${c}`;
      await this.sim.ok(`plug ${slave} 32`).catch(() => {});
      this.emit('plug', c);
      if (!await nap(300, 2000)) break;
      let accepted = false;
      for (let i = 0; i < 12 && this.driving && !accepted; i++) {
        const r = await this.csms.call('RemoteStartTransaction', { connectorId: c, idTag: tag }, 4000);
        if (r.result?.status === 'Accepted') { accepted = true; this.emit('remote start', c); }
        else if (r.result?.status === 'Rejected' && this.csms.txOfTag(tag)) accepted = true; // an earlier one got there
        else if (!await nap(500, 1500)) break;
      }
      if (accepted && this.driving) {
        await nap(2000, 10000);
        if (this.rng() < 0.5) {
          const tx = this.csms.txOfTag(tag);
          if (tx) {
            const r = await this.csms.call('RemoteStopTransaction', { transactionId: tx.txId }, 4000);
            if (r.result?.status === 'Accepted') this.emit('remote stop', c);
          }
          await sleep(this.rand(300, 3000));
        }
      }
      await this.sim.ok(`unplug ${slave}`).catch(() => {});
      this.emit('unplug', c);
      if (!await nap(300, 2500)) break;
    }
  }

  // ---- phases

  async phaseTimed(name, fn) {
    this.phase = name;
    this.csms.phase = name;
    const t = Date.now();
    this.log(`phase ${name} begins`);
    await fn();
    this.phaseTimes.push({ name, s: (Date.now() - t) / 1000 });
  }

  // SIGKILL twcgw: now, or (trigger) at a moment the trigger waits for, or from inside it.
  async killOnce(why, trigger = null) {
    if (!this.gw.proc) await this.waitFor('twcgw running', async () => this.gw.proc, 10000);
    await this.harvest(`before kill ${this.kills + 1}`);
    if (trigger) why += await trigger();
    await this.gw.kill('SIGKILL');
    this.kills++;
    this.killKinds[why.replace(/^round \d+: /, '').replace(/ after \d+ ms/, '')] = (this.killKinds[why.replace(/^round \d+: /, '').replace(/ after \d+ ms/, '')] || 0) + 1;
    this.journalAtKills.push(journalLive(this.journalFile).length);
    this.log(`SIGKILL ${this.kills} (${why})`);
  }

  // Append the first part of a record line, as a write cut short by a power cut leaves it (twcgw is
  // not running). twcgw must drop it and keep every sound record before it.
  tearJournal() {
    const text = JSON.stringify({ k: 'msg', a: 'StopTransaction', c: 1, t: 1, p: { transactionId: 4242, meterStop: 1, timestamp: new Date().toISOString(), reason: 'Local' } });
    const line = `P 999999 ${text.length} ${'0123abcd'} ${text}\n`;
    const cut = line.slice(0, 1 + Math.floor(this.rng() * (line.length - 2)));
    try {
      appendFileSync(this.journalFile, cut);
      this.torn++;
    } catch (err) {
      this.notes.push(`cannot tear the journal: ${err.message}`);
    }
  }

  async restart(downMs, settle = true) {
    await sleep(downMs);
    this.gw.start();
    if (settle) await this.settleStats(`restart after kill ${this.kills}`);
  }

  async killRounds(n, short) {
    this.csms.setFaults({ dropEveryMs: [2000, 6000], dropAfterAnswer: 0.08 });
    for (let i = 0; i < n; i++) {
      await this.killOnce(`round ${i + 1}`, this.killTrigger(short));
      // Now and then the kill was a power cut in the middle of an append: a torn record at the end.
      if (this.rng() < 0.25) this.tearJournal();
      await this.restart(this.rand(0, short ? 1000 : 3000));
    }
    this.csms.setFaults({});
  }

  async busFaults(short) {
    const k = short ? 1 : 4;
    const pick = () => Math.floor(this.rng() * SLAVES);
    const timed = async (on, off, ms, invalidates) => {
      if (invalidates) await this.harvest(on);
      await this.sim.ok(on);
      await sleep(ms);
      await this.sim.ok(off);
      if (invalidates) await this.settleStats(`after ${on}`);
    };
    this.csms.setFaults({ dropEveryMs: [4000, 10000] });
    await timed('fault echo on', 'fault echo off', 4000 * k, false);
    await timed('fault noise on', 'fault noise off', 4000 * k, false);
    let s = pick();
    await timed(`fault badcrc ${s} on`, `fault badcrc ${s} off`, 4000 * k, false);
    // A muted slave still hears: its heartbeats go on (26 s until twcgw removes it; the long mode
    // passes that and the 60 s reservation).
    s = pick();
    await timed(`fault mute ${s} on`, `fault mute ${s} off`, short ? 6000 : 35000, !short);
    s = pick();
    await timed(`fault deaf ${s} on`, `fault deaf ${s} off`, short ? 4000 : 35000, true);
    await this.harvest('drop all');
    await this.sim.ok(`fault drop all ${short ? 3 : 12}`);
    await sleep(short ? 3500 : 12500);
    await this.settleStats('after drop all');
    // The TCP bridge: a blip, then an outage with connections refused.
    await this.harvest('bridge blip');
    this.bridge.down(0);
    await sleep(1500);
    await this.settleStats('after the bridge blip');
    await this.harvest('bridge down');
    this.bridge.down(short ? 3000 : 20000);
    await sleep(short ? 3500 : 20500);
    await this.settleStats('after the bridge outage');
    // Everything at once for a moment, with a kill in the middle.
    await this.sim.ok('fault noise on');
    await this.sim.ok('fault echo on');
    await sleep(1500 * k);
    await this.killOnce('bus noise + echo');
    await this.sim.ok(`fault badcrc ${pick()} on`);
    await this.restart(500, false);
    await sleep(2500 * k);
    await this.harvest('bus faults off');
    await this.sim.ok('fault noise off');
    await this.sim.ok('fault echo off');
    await this.sim.ok('fault badcrc all off');
    await this.settleStats('bus faults off');
    this.csms.setFaults({});
  }

  async csmsFaults(short) {
    const k = short ? 1 : 3;
    this.csms.setFaults({ delay: [0.6, 4000] });
    await sleep(6000 * k);
    // Transaction messages answered badly (each failure delays the queue: attempt n waits n s).
    this.csms.setFaults({ txOnly: true, callError: 0.3, malformed: 0.2, noReply: 0.1, unsolicitedEveryMs: 700 });
    await sleep(10000 * k);
    this.csms.setFaults({ callError: 0.15, malformed: 0.1, noReply: 0.05, unsolicitedEveryMs: 1000, dropEveryMs: [5000, 12000] });
    await sleep(5000 * k);
    // The central system down: connections refused.
    this.csms.setFaults({ refuse: true });
    this.csms.drop('going down');
    await sleep(short ? 5000 : 25000);
    this.csms.setFaults({ callError: 0.1, delay: [0.3, 3000], dropAfterAnswer: 0.2 });
    await sleep(5000 * k);
    if (!short) {
      await this.killOnce('CSMS misbehaving');
      await this.restart(1000);
      await sleep(8000);
    }
    this.csms.setFaults({});
  }

  async setOffset(spec) {
    this.fakeOffset = spec;
    writeFileAtomic(this.fakeFile, `${spec}\n`);
    this.log(`clock offset ${spec}`);
  }

  async clockJumps(short) {
    if (!this.fakeTimeOk) return;
    const k = short ? 1 : 3;
    this.csms.setFaults({ dropEveryMs: [4000, 9000] });
    await this.setOffset('+0');
    await this.killOnce('into faketime');
    this.gw.fakeTime = true;
    await this.restart(300);
    await sleep(2000);
    await this.setOffset('+3h');
    await sleep(5000 * k);
    await this.setOffset('-2h');
    await sleep(4000 * k);
    await this.killOnce('while 2 h behind');
    await this.restart(500);
    await sleep(3000 * k);
    await this.setOffset('+26h');
    await sleep(4000 * k);
    await this.setOffset('+0');
    await sleep(2000);
    await this.killOnce('out of faketime');
    this.gw.fakeTime = false;
    await this.restart(300);
    this.csms.setFaults({});
  }

  async diskFull(short) {
    if (!this.disk) return;
    const k = short ? 1 : 3;
    this.csms.setFaults({ dropEveryMs: [4000, 9000] });
    const n = this.disk.fill();
    this.log(`disk full (${n} bytes of filler)`);
    // The journal fails once the slack in its last page is used up; then a transaction starts while
    // nothing can be written, and twcgw is killed while it charges.
    const run = this.gw.proc;
    const failing = await this.waitFor('the journal failing', async () => /journal: write failed/.test(run?.tail || ''), 30000).catch(() => false);
    if (!failing) this.notes.push('disk phase: twcgw did not report a failing journal within 30 s of the disk filling up');
    await sleep(6000 * (k - 1));
    await this.killOnce('disk full', async () => {
      const ev = await this.nextEventOf(['remote start'], 20000);
      await sleep(2000);
      return ev ? ': 2 s after a remote start while the journal could not be written' : ': no remote start within 20 s';
    });
    await this.restart(500);
    await sleep(5000 * k);
    this.disk.free();
    this.log('disk freed');
    await sleep(6000 * k);
    this.csms.setFaults({});
  }

  // ---- the end

  // No faults, every car unplugged, and time for every message to arrive.
  async recover() {
    this.phase = 'recovery';
    this.csms.phase = 'recovery';
    const t = Date.now();
    await this.stopDrivers();
    this.csms.setFaults({});
    this.meter.mode = 'ok';
    clearInterval(this.meterTimer);
    if (this.disk) this.disk.free();
    for (const cmd of ['fault echo off', 'fault noise off', 'fault badcrc all off', 'fault mute all off', 'fault deaf all off', 'fault drop all 0']) await this.sim.ok(cmd);
    if (!this.gw.proc) { this.gw.start(); await this.settleStats('recovery start'); }
    for (const i of this.slaveOfConn.values()) await this.sim.ok(`unplug ${i}`);
    let why = '';
    try {
      await this.waitFor('every transaction stopped and the journal empty', async () => {
        const live = journalLive(this.journalFile);
        const open = [...this.csms.starts.values()].filter((s) => !this.csms.stops.has(s.txId));
        why = `${live.length} live journal records (${[...new Set(live.map((r) => r.a || r.k))].join(',')}), ${open.length} transactions without a StopTransaction`;
        return live.length === 0 && open.length === 0 && this.csms.conn;
      }, 150000, 500);
    } catch {
      this.notes.push(`recovery: still ${why} after 150 s`);
    }
    await sleep(3000); // a last MeterValues or duplicate would show up here
    this.recoverySeconds = (Date.now() - t) / 1000;
    this.finalJournal = journalLive(this.journalFile);
    await this.harvest('end');
    this.stopping = true;
    this.sampler.running = false;
    await this.sampler.done;
    this.gw.sampleMemory();
    const r = await this.gw.kill('SIGTERM');
    this.cleanExit = r;
    if (!r || r.code !== 0) this.crashes.push({ run: this.gw.runs.length, why: `SIGTERM at the end gave ${JSON.stringify(r)}`, phase: 'end', tail: '' });
  }

  figures() {
    const cf = this.csms.figures();
    const lost = [];
    // A transaction the charge point logged as started must have reached the central system, unless
    // the kill came within the moment between that log line and the journal's fsync.
    const starts = [...this.csms.starts.values()];
    let unmatchedInFlight = 0;
    for (const s of this.cpStarts) {
      const m = starts.find((x) => x.connectorId === s.connector && x.meterStart === s.meter && Math.abs(Date.parse(x.timestamp) - Date.parse(s.logTime.replace(' ', 'T'))) < 1500);
      if (m) { s.match = m; continue; }
      const run = this.gw.runs[s.run - 1];
      if (run.killedAt && run.killedAt - s.t < 200 && run.tail.trim().split('\n').slice(-3).some((l) => l.includes(`transaction ${s.local} started`))) { unmatchedInFlight++; continue; }
      lost.push(`connector ${s.connector} transaction ${s.local} started on the charge point at ${s.logTime} (meter ${s.meter} Wh, run ${s.run}, phase ${s.phase}): no StartTransaction arrived`);
    }
    for (const s of cf.noStop) lost.push(`transaction ${s.txId} (connector ${s.connectorId}, idTag ${s.idTag}, started ${s.timestamp}): no StopTransaction arrived`);
    // Current granted on the bus with no transaction around it at the central system.
    let grantsChecked = 0;
    const ungranted = [];
    for (const g of this.grants) {
      if (g.fake || g.phase === 'clock') continue;
      grantsChecked++;
      const cover = starts.find((x) => {
        if (x.connectorId !== g.connector) return false;
        const st = Date.parse(x.timestamp);
        if (st > g.t + 1000) return false;
        const stop = this.csms.stops.get(x.txId);
        if (!stop) return true;
        const p = [...stop.payloads.values()][0].payload;
        return Date.parse(p.timestamp) >= g.t - 5000;
      });
      if (!cover) ungranted.push(`connector ${g.connector} (slave ${g.slave}) told ${g.amps} A at ${new Date(g.t).toISOString()} (phase ${g.phase}) with no transaction open at the central system`);
    }
    const tsBackwards = [];
    for (const s of starts) {
      const stop = this.csms.stops.get(s.txId);
      if (!stop) continue;
      const p = [...stop.payloads.values()][0].payload;
      if (Date.parse(p.timestamp) < Date.parse(s.timestamp)) tsBackwards.push(`tx ${s.txId}: started ${s.timestamp}, stopped ${p.timestamp} (${p.reason})`);
      if (p.meterStop < s.meterStart) this.csms.violations.push(`tx ${s.txId}: meterStop ${p.meterStop} < meterStart ${s.meterStart}`);
    }
    return { cf, lost, unmatchedInFlight, ungranted, grantsChecked, tsBackwards };
  }

  async teardown() {
    clearInterval(this.memTimer);
    clearInterval(this.meterTimer);
    if (this.sampler) this.sampler.running = false;
    this.stopping = true;
    if (this.gw?.proc) await this.gw.kill('SIGKILL');
    await this.csms?.close().catch(() => {});
    await this.bridge?.close().catch(() => {});
    await this.meter?.close().catch(() => {});
    if (this.sim && !this.sim.exited) this.sim.child.kill('SIGTERM');
    if (this.disk) {
      // Keep what is worth keeping from inside the namespace before it goes.
      try { copyFileSync(this.view(path.join(this.dataDir, 'ocpp-journal')), path.join(this.dir, 'ocpp-journal.final')); } catch { /* none */ }
      this.disk.close();
    }
    if (!this.args.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

function table(rows) {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v, note]) => `  ${k.padEnd(w)}  ${String(v).padStart(10)}${note ? `  ${note}` : ''}`).join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const suite = new Suite(args);
  const started = Date.now();
  const mode = args.short ? 'short' : 'long';
  console.log(`faults: ${mode} mode, ${args.rounds} SIGKILL rounds, seed ${args.seed}`);
  let failed = false;
  try {
    await suite.setup();
    console.log(`faults: twcgw ${suite.bins.twcgw}, dataDir ${suite.dataDir}${suite.disk ? ` (a ${suite.disk.sizeKb} kB tmpfs)` : ''}, work dir ${suite.dir}${args.keep ? ' (kept)' : ''}`);
    suite.startDrivers();
    const others = [['bus', (s) => suite.busFaults(s)], ['csms', (s) => suite.csmsFaults(s)], ['clock', (s) => suite.clockJumps(s)], ['disk', (s) => suite.diskFull(s)]]
      .filter(([name]) => args.phases.includes(name));
    const kills = args.phases.includes('kill');
    if (args.short) {
      if (kills) await suite.phaseTimed('kill', () => suite.killRounds(args.rounds, true));
      for (const [name, fn] of others) await suite.phaseTimed(name, () => fn(true));
    } else {
      let left = args.rounds;
      for (let cycle = 0; left > 0; cycle++) {
        const n = Math.min(10, left);
        left -= n;
        if (kills) await suite.phaseTimed('kill', () => suite.killRounds(n, false));
        if (others.length) {
          const [name, fn] = others[cycle % others.length];
          await suite.phaseTimed(name, () => fn(false));
        }
        console.log(`faults: ${args.rounds - left}/${args.rounds} kill rounds done, ${suite.csms.starts.size} transactions so far, ${((Date.now() - started) / 60000).toFixed(1)} min`);
      }
    }
    await suite.recover();
  } catch (err) {
    console.error(`faults: harness error: ${err.stack || err}`);
    failed = 'harness';
  }

  const fig = suite.figures();
  const cf = fig.cf;
  const secs = (Date.now() - started) / 1000;
  const mustZero = {
    lost: fig.lost.length + fig.ungranted.length,
    duplicated: cf.duplicates.length + cf.conflictingStops.length,
    crashes: suite.crashes.length,
    stopsUnknown: cf.stopsForUnknownTx.length,
    violations: suite.csms.violations.length,
    registerBack: cf.registerBack.length,
    order: cf.mvAfterStop + cf.mvBackwards.length,
  };
  const heldOver = suite.held.peak > WIRING_TOTAL || suite.held.peakPerTwc > WIRING_PER_TWC;
  console.log(`\nfaults: figures (${mode} mode, seed ${args.seed}, ${(secs / 60).toFixed(1)} min; phases: ${suite.phaseTimes.map((p) => `${p.name} ${p.s.toFixed(0)} s`).join(', ')}, recovery ${suite.recoverySeconds?.toFixed(0)} s)`);
  console.log(table([
    ['SIGKILLs of twcgw', suite.kills, `(${suite.gw.runs.length} runs; ${suite.torn} left a torn record at the journal's end; ${Object.entries(suite.killKinds).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${v} ${k.replace(/^: /, '')}`).join(', ')})`],
    ['websocket connections', suite.csms.conns.length, `(${suite.csms.counts.drops} dropped every few s, ${suite.csms.counts.dropsAfterAnswer} right after an answer, ${suite.csms.bootCount} BootNotifications)`],
    ['CSMS faults injected', suite.csms.counts.delayed + suite.csms.counts.callErrors + suite.csms.counts.malformedReplies + suite.csms.counts.noReply + suite.csms.counts.unsolicited,
      `(${suite.csms.counts.delayed} late, ${suite.csms.counts.callErrors} CALLERROR, ${suite.csms.counts.malformedReplies} malformed, ${suite.csms.counts.noReply} unanswered, ${suite.csms.counts.unsolicited} malformed CALLs)`],
    ['meter requests', suite.meter.requests, `(${Object.entries(suite.meter.byMode).map(([k, v]) => `${k} ${v}`).join(', ')})`],
    ['transactions started', cf.started, `(StartTransaction at the CSMS; ${suite.cpStarts.length} started on the charge point)`],
    ['transactions stopped', cf.stopped, ''],
    ['delivered exactly once', cf.exactlyOnce, '(Start and Stop each arrived once)'],
    ['resent after a lost answer', cf.startResends + cf.stopResends + cf.mvResends, `(Start ${cf.startResends}, Stop ${cf.stopResends}, MeterValues ${cf.mvResends}: the answer may not have got there; allowed)`],
    ['retried after a fault', cf.retries, '(after a CALLERROR, no answer or a malformed answer)'],
    ['MeterValues (distinct)', cf.meterValues, ''],
    ['out of order', mustZero.order, `must be 0 (${cf.mvAfterStop} MeterValues after their transaction's StopTransaction, ${cf.mvBackwards.length} with a timestamp before the previous one's, outside the clock phase)`],
    ['lost', mustZero.lost, `must be 0 (${fig.lost.length} Start/Stop never arrived, ${fig.ungranted.length} of ${fig.grantsChecked} current grants without a transaction; ${fig.unmatchedInFlight} started in the ms before a kill, not counted)`],
    ['duplicated', mustZero.duplicated, `must be 0 (${cf.duplicates.length} after an acknowledged answer, ${cf.conflictingStops.length} transactions with two different StopTransactions)`],
    ['stops for unknown transactions', mustZero.stopsUnknown, 'must be 0'],
    ['protocol violations', mustZero.violations, 'must be 0 (schema, one CALL at a time, ids, meterStop below meterStart)'],
    ['energy register went back', mustZero.registerBack, 'must be 0 (a meterStop below a reading already delivered)'],
    ['crashes', mustZero.crashes, 'must be 0 (twcgw ending without our signal; unclean SIGTERM)'],
    ['longest heartbeat gap (ms)', suite.gap.maxMs, `(while twcgw ran and the slave could hear; ${suite.gap.where}; a TWC expects about 3500 with 3 slaves)`],
    ['peak held total (A)', suite.held.peak, `wiring ${WIRING_TOTAL} A (${suite.held.where})`],
    ['peak held per TWC (A)', suite.held.peakPerTwc, `wiring ${WIRING_PER_TWC} A per TWC`],
    ['peak drawn total (A)', suite.held.drawnPeak.toFixed(1), ''],
    ['slowest restart (ms)', suite.slowestRestart.ms, '(start to every slave heartbeated by the new process)'],
    ['peak RSS of twcgw (kB)', suite.gw.vmHwmKb, '(VmHWM, sampled every second and before each kill)'],
    ['Stop timestamped before its Start', fig.tsBackwards.length, '(clock jumps)'],
    ['wall time (s)', secs.toFixed(0), ''],
  ]));
  const list = (title, items, max = 10) => {
    if (!items.length) return;
    console.log(`${title} (${items.length}):`);
    for (const x of items.slice(0, max)) console.log(`  - ${x}`);
    if (items.length > max) console.log(`  ... and ${items.length - max} more`);
  };
  list('LOST', fig.lost);
  list('CURRENT WITHOUT A TRANSACTION', fig.ungranted);
  list('DUPLICATED', [...cf.duplicates, ...cf.conflictingStops]);
  list('STOPS FOR UNKNOWN TRANSACTIONS', cf.stopsForUnknownTx.map(String));
  list('PROTOCOL VIOLATIONS', suite.csms.violations);
  list('OUT OF ORDER', [...cf.mvAfterStopList, ...cf.mvBackwards]);
  list('ENERGY REGISTER WENT BACK', cf.registerBack);
  list('CRASHES', suite.crashes.map((c) => `run ${c.run} (${c.why}, phase ${c.phase})${c.tail ? `:\n    ${c.tail}` : ''}`));
  if (suite.held.violation) console.log(`WIRING EXCEEDED: ${suite.held.violation}`);
  list('Stop before Start (timestamps)', fig.tsBackwards, 5);
  list('notes', suite.notes);
  if (args.verbose) list('CALLs by phase', Object.entries(suite.csms.callsByPhase).map(([k, v]) => `${k}: ${JSON.stringify(v)}`));
  const errs = [...suite.errorLines.entries()].sort((a, b) => b[1].n - a[1].n);
  list('twcgw warnings and errors (by kind)', errs.map(([, e]) => `${e.n} x in ${[...e.phases].join('/')}: ${e.example}`), 25);
  if (suite.finalJournal?.length) list('journal records left at the end', suite.finalJournal.map((r) => JSON.stringify(r).slice(0, 200)));

  await suite.teardown().catch((err) => console.error(`teardown: ${err.message}`));
  const bad = Object.values(mustZero).some((v) => v !== 0) || heldOver;
  if (failed) { console.log('faults: FAILED (harness error)'); process.exit(2); }
  console.log(bad ? 'faults: FAILED' : 'faults: OK');
  process.exit(bad ? 1 : 0);
}

main();
