// The processes and stand-ins of the fault suite, all on loopback: twc-sim on a TCP port behind a
// small TCP relay that plays the RS-485-to-Ethernet bridge (so the bridge can drop and refuse
// connections), twcgw itself (started again and again on the same dataDir, optionally under
// libfaketime with a time offset read from a file, optionally inside a private mount namespace where
// its dataDir is a small tmpfs that can be filled up), an HTTP energy meter that misbehaves, and a
// sampler of twc-sim's figures.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync, unlinkSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- twc-sim and its control socket

// twc-sim serves at most 8 control connections at once (it closes the next one): keep to 4.
let ctlBusy = 0;
const ctlWaiting = [];

export async function simControl(sock, line, timeoutMs = 3000) {
  if (ctlBusy >= 4) await new Promise((r) => ctlWaiting.push(r));
  ctlBusy++;
  try {
    return await simControlOnce(sock, line, timeoutMs);
  } finally {
    ctlBusy--;
    ctlWaiting.shift()?.();
  }
}

function simControlOnce(sock, line, timeoutMs) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    let buf = '';
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`twc-sim "${line}": no answer`)); }, timeoutMs);
    c.on('connect', () => {
      try { c.write(`${line}\n`); } catch (err) { clearTimeout(timer); c.destroy(); reject(err); }
    });
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        c.end();
        try { resolve(JSON.parse(buf.slice(0, nl))); } catch (err) { reject(err); }
      }
    });
    c.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

export async function startSim(bin, dir, { slaves, seed }) {
  const ctl = path.join(dir, 'sim.sock');
  const child = spawn(bin, ['--tcp', '0', '--control', ctl, '--slaves', String(slaves), '--seed', String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const sim = { child, ctl, exited: null, stderr: '' };
  child.stderr.on('data', (d) => { sim.stderr = (sim.stderr + d).slice(-20000); });
  child.on('exit', (code, signal) => { sim.exited = { code, signal }; });
  const addr = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('twc-sim not ready')), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^ready tcp (\S+)/m);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.on('exit', () => reject(new Error(`twc-sim exited: ${sim.stderr}`)));
  });
  const [host, port] = addr.split(':');
  sim.host = host;
  sim.port = Number(port);
  sim.control = (line) => simControl(ctl, line);
  sim.ok = async (line) => {
    const r = await sim.control(line);
    if (!r.ok) throw new Error(`twc-sim refused "${line}": ${r.error}`);
    return r;
  };
  return sim;
}

// ---------------------------------------------------------------- the TCP bridge

// One persistent connection to twc-sim (the RS-485 side, which never goes away) and whichever
// connection twcgw has made to us. down(ms) drops twcgw's connection and refuses new ones for ms.
export async function startBridge(simHost, simPort) {
  const b = { client: null, upstream: null, refuseUntil: 0, drops: 0, refused: 0 };
  const connectUp = () => {
    const up = net.createConnection({ host: simHost, port: simPort });
    up.setNoDelay(true);
    up.on('data', (d) => { if (b.client && !b.client.destroyed) b.client.write(d); });
    up.on('error', () => {});
    up.on('close', () => { if (b.upstream === up && !b.closing) setTimeout(connectUp, 100); });
    b.upstream = up;
  };
  connectUp();
  b.server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    if (Date.now() < b.refuseUntil) { b.refused++; sock.destroy(); return; }
    if (b.client) b.client.destroy();
    b.client = sock;
    sock.on('data', (d) => { if (b.upstream && !b.upstream.destroyed) b.upstream.write(d); });
    sock.on('close', () => { if (b.client === sock) b.client = null; });
  });
  await new Promise((resolve) => b.server.listen(0, '127.0.0.1', resolve));
  b.port = b.server.address().port;
  b.down = (ms) => {
    b.drops++;
    b.refuseUntil = Date.now() + ms;
    if (b.client) b.client.destroy();
  };
  b.close = () => new Promise((resolve) => {
    b.closing = true;
    if (b.client) b.client.destroy();
    if (b.upstream) b.upstream.destroy();
    b.server.close(() => resolve());
  });
  return b;
}

// ---------------------------------------------------------------- the energy meter

// An HTTP JSON meter (twcgw's `json` meter type) whose answer depends on the mode: ok, garbage
// (bytes that are not JSON), wrong (JSON of the wrong shape), huge (a body of 2 MB), slow (answers
// after 20 s, past twcgw's 15 s timeout), hang (reads the request, never answers, keeps the socket),
// reset (closes the connection at once), http500.
export const METER_MODES = ['ok', 'garbage', 'wrong', 'huge', 'slow', 'hang', 'reset', 'http500'];

export async function startMeter() {
  const m = { mode: 'ok', requests: 0, byMode: {}, sockets: new Set() };
  m.server = http.createServer((req, res) => {
    m.requests++;
    m.byMode[m.mode] = (m.byMode[m.mode] || 0) + 1;
    const ok = () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ grid: -2500 + Math.round(Math.random() * 500), pv: 4000 })); };
    switch (m.mode) {
      case 'garbage': res.writeHead(200, { 'content-type': 'application/json' }); res.end(Buffer.from([0x7b, 0xff, 0x00, 0x22, 0x9c, 0x5d, 0x2c])); break;
      case 'wrong': res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"grid":{"deep":[1,2,3]},"pv":"lots"}'); break;
      case 'huge': res.writeHead(200, { 'content-type': 'application/json' }); res.end(`{"grid":1,"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`); break;
      case 'slow': setTimeout(() => { if (!res.destroyed) ok(); }, 20000); break;
      case 'hang': break;
      case 'reset': req.socket.destroy(); break;
      case 'http500': res.writeHead(500); res.end('oops'); break;
      default: ok();
    }
  });
  m.server.on('connection', (s) => { m.sockets.add(s); s.on('close', () => m.sockets.delete(s)); });
  await new Promise((resolve) => m.server.listen(0, '127.0.0.1', resolve));
  m.port = m.server.address().port;
  m.url = `http://127.0.0.1:${m.port}/meter`;
  m.close = () => new Promise((resolve) => { for (const s of m.sockets) s.destroy(); m.server.close(() => resolve()); });
  return m;
}

// ---------------------------------------------------------------- the disk that fills up

// A private user + mount namespace (unshare -Urm, no root needed where unprivileged user namespaces
// are allowed) whose only difference is a small tmpfs over `dir`. A holder process keeps it alive;
// twcgw runs in it through nsenter, and the suite reaches the files through /proc/HOLDER/root.
export async function startSmallDisk(dir, sizeKb) {
  mkdirSync(dir, { recursive: true });
  const probe = spawnSync('unshare', ['-Urm', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return { supported: false, why: `unshare -Urm fails here: ${(probe.stderr || probe.error?.message || '').trim()}` };
  if (spawnSync('nsenter', ['--version']).status !== 0) return { supported: false, why: 'no nsenter' };
  const child = spawn('unshare', ['-Urm', 'sh', '-c', `mount -t tmpfs -o size=${sizeKb}k,mode=0755 tmpfs "$0" && echo mounted && exec sleep 1000000`, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const ok = await new Promise((resolve) => {
    child.stdout.on('data', (d) => { if (/mounted/.test(String(d))) resolve(true); });
    child.on('exit', () => resolve(false));
    setTimeout(() => resolve(false), 5000);
  });
  if (!ok) { child.kill('SIGKILL'); return { supported: false, why: `cannot mount a tmpfs in a user namespace: ${err.trim()}` }; }
  const d = { supported: true, holder: child, pid: child.pid, dir, sizeKb };
  d.view = (p) => `/proc/${d.pid}/root${path.resolve(p)}`; // a path inside, seen from outside
  d.prefix = ['nsenter', '-t', String(d.pid), '-U', '-m', '--preserve-credentials', '--'];
  d.fillFile = d.view(path.join(dir, 'filler'));
  // Fill every free byte; returns the bytes written.
  d.fill = () => {
    const fd = openSync(d.fillFile, 'a');
    const chunk = Buffer.alloc(4096, 0x55);
    let n = 0;
    try {
      for (;;) { writeSync(fd, chunk); n += chunk.length; }
    } catch (err) {
      if (err.code !== 'ENOSPC') throw err;
      // The last partial block.
      for (let s = 2048; s >= 1; s >>= 1) {
        try { writeSync(fd, chunk.subarray(0, s)); n += s; } catch { /* full */ }
      }
    } finally { closeSync(fd); }
    return n;
  };
  d.free = () => { try { unlinkSync(d.fillFile); } catch { /* not there */ } };
  d.close = () => { d.free(); child.kill('SIGKILL'); };
  return d;
}

// ---------------------------------------------------------------- twcgw

/**
 * twcgw, started again and again on the same config and dataDir. Every run's stderr goes to
 * `logFile` (appended) and the last 200 kB of it is kept in memory; runs record how they ended.
 */
export class Gateway {
  constructor({ bin, cfgFile, logFile, disk = null, fakeTimeFile = null, onExit = () => {} }) {
    this.bin = bin;
    this.cfgFile = cfgFile;
    this.logFile = logFile;
    this.disk = disk;
    this.fakeTimeFile = fakeTimeFile;
    this.fakeTime = false;
    this.onExit = onExit;
    this.runs = [];
    this.proc = null;
    this.vmHwmKb = 0;
    this.vmRssKb = 0;
  }

  start() {
    const env = { ...process.env };
    if (this.fakeTime) {
      env.LD_PRELOAD = FAKETIME_LIB;
      env.FAKETIME_TIMESTAMP_FILE = this.fakeTimeFile;
      env.FAKETIME_CACHE_DURATION = '1';
      env.FAKETIME_DONT_FAKE_MONOTONIC = '1';
    }
    const argv = [...(this.disk ? this.disk.prefix : []), this.bin, '-c', this.cfgFile];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env });
    const run = { n: this.runs.length + 1, pid: child.pid, startedAt: Date.now(), exit: null, expected: null, tail: '', fakeTime: this.fakeTime };
    this.runs.push(run);
    appendFileSync(this.logFile, `\n===== twcgw run ${run.n} pid ${run.pid} at ${new Date().toISOString()}${this.fakeTime ? ' (faketime)' : ''} =====\n`);
    child.stderr.on('data', (d) => {
      appendFileSync(this.logFile, d);
      run.tail = (run.tail + d).slice(-200000);
      if (this.onLine) for (const l of String(d).split('\n')) if (l) this.onLine(l, run);
    });
    run.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
      run.exit = { code, signal, at: Date.now() };
      if (this.proc === run) this.proc = null;
      this.onExit(run);
      resolve(run.exit);
    }));
    run.child = child;
    this.proc = run;
    return run;
  }

  // Peak resident set size so far, from /proc (VmHWM is the process's own high-water mark).
  sampleMemory() {
    const run = this.proc;
    if (!run) return;
    try {
      const s = readFileSync(`/proc/${run.pid}/status`, 'utf8');
      const hwm = Number((s.match(/^VmHWM:\s+(\d+)/m) || [])[1] || 0);
      const rss = Number((s.match(/^VmRSS:\s+(\d+)/m) || [])[1] || 0);
      run.vmHwmKb = Math.max(run.vmHwmKb || 0, hwm);
      this.vmHwmKb = Math.max(this.vmHwmKb, hwm);
      this.vmRssKb = rss;
    } catch { /* gone */ }
  }

  // Send the signal now (synchronously, e.g. from inside a socket callback); returns the run.
  killNow(signal = 'SIGKILL') {
    const run = this.proc;
    if (!run || run.expected) return run;
    this.sampleMemory();
    run.expected = signal;
    run.killedAt = Date.now();
    run.child.kill(signal);
    return run;
  }

  async kill(signal = 'SIGKILL') {
    const run = this.killNow(signal);
    if (!run) return null;
    const t = signal === 'SIGKILL' ? null : setTimeout(() => run.child.kill('SIGKILL'), 5000);
    const r = await run.exitPromise;
    clearTimeout(t);
    return r;
  }
}

// The AddressSanitizer runtime a binary links, or null. (libfaketime and ASan do not mix: with both
// preloaded twcgw hangs at start, so the suite leaves the clock phase out for such a build.)
const asanCache = new Map();
export function asanRuntime(bin) {
  if (!asanCache.has(bin)) {
    const out = spawnSync('ldd', [bin], { encoding: 'utf8' }).stdout || '';
    asanCache.set(bin, (out.match(/libasan\.so\S*\s+=>\s+(\S+)/) || [])[1] || null);
  }
  return asanCache.get(bin);
}

export const FAKETIME_LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) => existsSync(p)) || null;

// ---------------------------------------------------------------- the journal, read from outside

// The records live in dataDir/ocpp-journal ("P <seq> <len> <crc> <json>" puts and "D <seq> ..."
// deletes, gateway/store/gw_journal.h). Returns the live records' parsed texts, in seq order.
export function journalLive(file) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  const live = new Map();
  for (const line of text.split('\n')) {
    const m = line.match(/^([PD]) (\d+) (\d+) ([0-9a-f]{8}) (.*)$/);
    if (!m) continue;
    if (m[1] === 'D') live.delete(m[2]);
    else {
      try { live.set(m[2], JSON.parse(m[5])); } catch { /* torn */ }
    }
  }
  return [...live.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([seq, r]) => ({ seq: Number(seq), ...r }));
}

export function fileSize(p) {
  try { return statSync(p).size; } catch { return 0; }
}

export function writeFileAtomic(p, text) {
  writeFileSync(`${p}.tmp`, text);
  // rename is atomic; libfaketime re-reads the file
  spawnSync('mv', ['-f', `${p}.tmp`, p]);
}
