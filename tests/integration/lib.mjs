// Shared helpers for the integration tests: start the real twc-sim and twcgw binaries, talk to the
// simulator's control socket, and wait for conditions with a deadline (never a fixed sleep).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const TWCGW = process.env.TWCGW_BIN || path.join(root, 'build/bin/twcgw');
export const TWCSIM = process.env.TWCSIM_BIN || path.join(root, 'build/bin/twc-sim');

export function tempDir() {
  return mkdtempSync(path.join(os.tmpdir(), 'twcgw-it-'));
}

// Start a process and collect its output; resolves once `readyRe` matches a stdout line (if given).
export function start(bin, args, { readyRe = null, timeoutMs = 10000 } = {}) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, stdout: '', stderr: '', exited: null };
  child.stdout.on('data', (d) => { proc.stdout += d; });
  child.stderr.on('data', (d) => { proc.stderr += d; });
  proc.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    proc.exited = { code, signal };
    resolve(proc.exited);
  }));
  if (!readyRe) return Promise.resolve(proc);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(bin)} not ready: ${proc.stdout} ${proc.stderr}`)), timeoutMs);
    const check = () => {
      const m = proc.stdout.match(readyRe);
      if (m) { clearTimeout(timer); proc.ready = m; resolve(proc); }
    };
    child.stdout.on('data', check);
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`${path.basename(bin)} exited early: ${proc.stderr}`)); });
  });
}

export async function stop(proc, signal = 'SIGTERM', timeoutMs = 5000) {
  if (!proc || proc.exited) return proc?.exited;
  proc.child.kill(signal);
  const t = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const r = await proc.exitPromise;
  clearTimeout(t);
  return r;
}

// One request/response on the simulator's control socket.
export function control(sockPath, line) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sockPath);
    let buf = '';
    c.on('connect', () => c.write(line + '\n'));
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { c.end(); resolve(JSON.parse(buf.slice(0, nl))); }
    });
    c.on('error', reject);
  });
}

export async function waitFor(what, fn, timeoutMs, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function writeConfig(dir, twc, extra = {}) {
  const file = path.join(dir, 'twcgw.json');
  const cfg = {
    dataDir: path.join(dir, 'data'),
    twc: { wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32, minAmpsPerTWC: 6, ...twc },
    log: { statusInterval: 5 },
    ...extra,
  };
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

export function run(bin, args) {
  return spawnSync(bin, args, { encoding: 'utf8', timeout: 10000 });
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

// Start a simulator on a pty or TCP and a gateway pointed at it. Returns handles and the port string.
export async function startPair(dir, { transport, simArgs = [], twc = {}, extra = {} }) {
  const ctl = path.join(dir, 'sim.sock');
  const args = ['--control', ctl, '--seed', '7', ...simArgs];
  let sim, port;
  if (transport === 'pty') {
    const link = path.join(dir, 'ttyTWC');
    sim = await start(TWCSIM, ['--pty', link, ...args], { readyRe: /^ready pty (\S+)/m });
    port = link;
  } else {
    sim = await start(TWCSIM, ['--tcp', '0', ...args], { readyRe: /^ready tcp (\S+)/m });
    port = `tcp://${sim.ready[1]}`;
  }
  const cfgFile = writeConfig(dir, { port, ...twc }, extra);
  const started = Date.now();
  const gw = await start(TWCGW, ['-c', cfgFile]);
  return { sim, gw, ctl, port, cfgFile, started };
}

export const status = (ctl) => control(ctl, 'status');
