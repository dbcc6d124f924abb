// The system under test. LocalSut runs the real twcgw against twc-sim on a pseudo-terminal, each case
// in a fresh temporary dataDir: it writes twcgw's config (pointing it at the case's CSMS), plugs and
// unplugs cars and injects faults through twc-sim's control socket, and cuts the power (SIGKILL, then
// start again on the same dataDir). RemoteSut stands for any charge point that connects to the runner:
// it can give no physical stimulus and has no process to control.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const CHARGE_BOX_ID = 'TWCGW-CT';

// One request/response line on twc-sim's control socket.
function simControl(sock, line, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    let buf = '';
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`twc-sim control "${line}": no answer`)); }, timeoutMs);
    c.on('connect', () => c.write(`${line}\n`));
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

function spawnProc(bin, args, name) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = { name, child, stdout: '', stderr: '', exited: null };
  child.stdout.on('data', (d) => { p.stdout += d; if (p.stdout.length > 2e6) p.stdout = p.stdout.slice(-1e6); });
  child.stderr.on('data', (d) => { p.stderr += d; if (p.stderr.length > 4e6) p.stderr = p.stderr.slice(-2e6); });
  p.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { p.exited = { code, signal }; resolve(p.exited); });
    child.on('error', (err) => { p.exited = { code: -1, signal: null, error: err.message }; resolve(p.exited); });
  });
  return p;
}

async function waitStdout(p, re, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const m = p.stdout.match(re);
    if (m) return m;
    if (p.exited) throw new Error(`${p.name} exited early (${JSON.stringify(p.exited)}): ${p.stderr.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${p.name} not ready after ${timeoutMs} ms: ${p.stderr.slice(-1000)}`);
}

export class LocalSut {
  /**
   * @param {object} o
   * @param {string} o.twcgw  path to the twcgw binary
   * @param {string} o.twcsim path to the twc-sim binary
   * @param {string} o.csmsUrl endpoint of the case's CSMS (ws://127.0.0.1:PORT/ocpp)
   * @param {number} [o.slaves] simulated Wall Connectors (connector N = slave N-1)
   * @param {object} [o.ocpp] extra/overriding members of twcgw's "ocpp" config section
   * @param {object} [o.keys] initial OCPP key values (ocpp.keys)
   * @param {(reason: string) => void} [o.onCrash] called when twcgw exits on its own
   * @param {(line: string) => void} [o.log]
   */
  constructor({ twcgw, twcsim, csmsUrl, slaves = 1, ocpp = {}, keys = {}, onCrash = () => {}, log = () => {} }) {
    this.kind = 'local';
    this.twcgw = twcgw;
    this.twcsim = twcsim;
    this.csmsUrl = csmsUrl;
    this.slaves = slaves;
    this.ocpp = ocpp;
    this.keys = keys;
    this.onCrash = onCrash;
    this.log = log;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'twcgw-ct-'));
    this.dataDir = path.join(this.dir, 'data');
    mkdirSync(this.dataDir, { recursive: true });
    this.link = path.join(this.dir, 'ttyTWC');
    this.ctl = path.join(this.dir, 'sim.sock');
    this.cfgFile = path.join(this.dir, 'twcgw.json');
    this.gw = null;
    this.sim = null;
    this.gwStderr = ''; // every twcgw run of this case, in order
    this.starts = 0;
    this.tesla = null; // a case may set twcgw's "tesla" section (e.g. pointing at the Fleet API mock)
  }

  config() {
    const ocpp = {
      url: this.csmsUrl,
      chargeBoxId: CHARGE_BOX_ID,
      idTag: { source: 'remote' },
      ...this.ocpp,
      keys: { ...this.keys, ...(this.ocpp.keys || {}) },
    };
    return {
      dataDir: this.dataDir,
      twc: { port: this.link, wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32 },
      ocpp,
      ...(this.tesla ? { tesla: this.tesla } : {}),
      log: { level: 'debug' },
    };
  }

  async start() {
    if (!this.sim) await this.startSim();
    await this.startGw();
  }

  async startSim() {
    const args = ['--pty', this.link, '--control', this.ctl, '--seed', '7', '--slaves', String(this.slaves)];
    this.sim = spawnProc(this.twcsim, args, 'twc-sim');
    await waitStdout(this.sim, /^ready pty (\S+)/m, 10000);
  }

  async startGw() {
    writeFileSync(this.cfgFile, JSON.stringify(this.config(), null, 2));
    const p = spawnProc(this.twcgw, ['-c', this.cfgFile], 'twcgw');
    const run = ++this.starts;
    this.gwStderr += `\n----- twcgw start ${run} (${new Date().toISOString()}) -----\n`;
    p.child.stderr.on('data', (d) => { this.gwStderr += d; if (this.gwStderr.length > 4e6) this.gwStderr = this.gwStderr.slice(-2e6); });
    p.expectExit = false;
    p.exitPromise.then((ex) => {
      if (!p.expectExit) {
        this.onCrash(`twcgw exited on its own (${ex.signal ? `signal ${ex.signal}` : `code ${ex.code}`}${ex.error ? `: ${ex.error}` : ''}); its last lines: ${p.stderr.trim().split('\n').slice(-6).join(' | ')}`);
      }
    });
    this.gw = p;
    this.log(`twcgw started (pid ${p.child.pid})`);
    return p;
  }

  async stopGw(signal = 'SIGTERM', timeoutMs = 5000) {
    const p = this.gw;
    if (!p || p.exited) return p?.exited;
    p.expectExit = true;
    p.child.kill(signal);
    const t = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
    const r = await p.exitPromise;
    clearTimeout(t);
    return r;
  }

  get pid() {
    return this.gw?.child.pid;
  }

  simControl(line) {
    return simControl(this.ctl, line);
  }

  async simOk(line) {
    const r = await this.simControl(line);
    if (!r.ok) throw new Error(`twc-sim refused "${line}": ${r.error}`);
    return r;
  }

  // Connector N is slave N-1: exact with one slave (the only layout cases plug cars on).
  slaveOf(connector) {
    if (connector < 1 || connector > this.slaves) throw new Error(`no simulated slave for connector ${connector}`);
    return connector - 1;
  }

  plug(connector = 1, amps = 32, vin) {
    return this.simOk(`plug ${this.slaveOf(connector)} ${amps}${vin ? ` ${vin}` : ''}`);
  }

  unplug(connector = 1) {
    return this.simOk(`unplug ${this.slaveOf(connector)}`);
  }

  /** A hardware fault on a connector's TWC: an error state if twc-sim can report one, otherwise the
   * slave falls silent (what a dead TWC looks like from the bus). Returns the kind used. */
  async fault(connector = 1, on = true) {
    const s = this.slaveOf(connector);
    const r = await this.simControl(`fault error ${s} ${on ? 'on' : 'off'}`);
    if (r.ok) return 'error';
    await this.simOk(`fault silent ${s} ${on ? 'on' : 'off'}`);
    return 'silent';
  }

  simStatus() {
    return this.simControl('status');
  }

  /** Power cut: SIGKILL twcgw (nothing gets flushed), run `whileDown`, then start it again on the same
   * dataDir. */
  async powerCut({ whileDown } = {}) {
    await this.stopGw('SIGKILL');
    if (whileDown) await whileDown();
    await this.startGw();
  }

  /** Clean stop (SIGTERM) and start again. */
  async restart() {
    const r = await this.stopGw('SIGTERM');
    await this.startGw();
    return r;
  }

  stderrTail(lines = 40) {
    return this.gwStderr.trim().split('\n').slice(-lines).join('\n');
  }

  async stop({ keep = false } = {}) {
    await this.stopGw('SIGTERM', 3000).catch(() => {});
    if (this.sim && !this.sim.exited) {
      this.sim.child.kill('SIGTERM');
      const t = setTimeout(() => this.sim.child.kill('SIGKILL'), 2000);
      await this.sim.exitPromise;
      clearTimeout(t);
    }
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

// Any charge point the operator pointed at the runner. It is started and stopped by hand.
export class RemoteSut {
  constructor({ csms, log = () => {} }) {
    this.kind = 'remote';
    this.csms = csms;
    this.log = log;
    this.slaves = null;
    this.gwStderr = '';
  }

  async start() {}
  async stop() {}
  stderrTail() { return ''; }
}
