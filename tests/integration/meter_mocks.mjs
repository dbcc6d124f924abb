// Loopback stand-ins for the energy meters twcgw reaches over raw TCP rather than HTTP: a Modbus TCP
// server with a SolarEdge SunSpec register bank, a real mosquitto broker, and a small MQTT 3.1.1
// publisher; and a Powerwall's local API over https with a self-signed certificate, which records
// every TLS connection and request so a test can prove where a credential went. Plain node (net,
// https), no npm dependency: the wire formats are written out here, from the protocols, not from
// twcgw's code, so a framing mistake on either side shows up as a failed test.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { start, status, waitFor, writeConfig, TWCSIM } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A TCP port nothing listens on now (bound, then closed): for a server started by another process.
export function freePort() {
  const s = net.createServer();
  return new Promise((resolve, reject) => {
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function portAccepts(port) {
  return new Promise((resolve) => {
    const c = net.createConnection({ host: '127.0.0.1', port });
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------- Modbus TCP

// Modbus exception codes (Modbus application protocol v1.1b3, 7).
export const MB_ILLEGAL_FUNCTION = 0x01;
export const MB_ILLEGAL_ADDRESS = 0x02;
export const MB_ILLEGAL_VALUE = 0x03;
export const MB_GATEWAY_NO_RESPONSE = 0x0b;

// A Modbus TCP server that answers function 3 (read holding registers) only.
// read(unit, addr, count) -> Promise of: an array of `count` uint16 registers; a number (an exception
// code to answer with); or null (close the connection without answering).
// Every request is recorded in server.requests as { at, unit, fn, addr, count, answer } where answer
// is 'regs', 'exception N' or 'closed'. Requests on one connection are answered in order.
export async function startModbusServer(read) {
  const srv = { requests: [], connections: 0, sockets: new Set(), protocolErrors: 0 };
  const server = net.createServer((sock) => {
    srv.connections++;
    srv.sockets.add(sock);
    sock.on('close', () => srv.sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let chain = Promise.resolve();
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      // MBAP: transaction id, protocol id (0), length (unit + PDU), unit; then the PDU.
      while (buf.length >= 7) {
        const len = buf.readUInt16BE(4);
        if (buf.readUInt16BE(2) !== 0 || len < 2 || len > 254) {
          srv.protocolErrors++;
          sock.destroy();
          return;
        }
        if (buf.length < 6 + len) break;
        const adu = buf.subarray(0, 6 + len);
        buf = buf.subarray(6 + len);
        chain = chain.then(() => answer(sock, adu));
      }
    });
  });

  async function answer(sock, adu) {
    if (sock.destroyed) return;
    const tid = adu.readUInt16BE(0);
    const unit = adu[6];
    const fn = adu[7];
    const rec = { at: Date.now(), unit, fn, addr: -1, count: -1, answer: '' };
    srv.requests.push(rec);
    const exception = (code) => {
      const out = Buffer.alloc(9);
      out.writeUInt16BE(tid, 0);
      out.writeUInt16BE(0, 2);
      out.writeUInt16BE(3, 4);
      out[6] = unit;
      out[7] = fn | 0x80;
      out[8] = code;
      rec.answer = `exception ${code}`;
      sock.write(out);
    };
    if (fn !== 0x03) { exception(MB_ILLEGAL_FUNCTION); return; }
    if (adu.length !== 12) { exception(MB_ILLEGAL_VALUE); return; }
    rec.addr = adu.readUInt16BE(8);
    rec.count = adu.readUInt16BE(10);
    if (rec.count < 1 || rec.count > 125) { exception(MB_ILLEGAL_VALUE); return; }
    let regs;
    try {
      regs = await read(unit, rec.addr, rec.count);
    } catch {
      regs = MB_GATEWAY_NO_RESPONSE;
    }
    if (sock.destroyed) return;
    if (regs === null) {
      rec.answer = 'closed';
      sock.destroy();
      return;
    }
    if (typeof regs === 'number') { exception(regs); return; }
    const out = Buffer.alloc(9 + 2 * regs.length);
    out.writeUInt16BE(tid, 0);
    out.writeUInt16BE(0, 2);
    out.writeUInt16BE(3 + 2 * regs.length, 4);
    out[6] = unit;
    out[7] = fn;
    out[8] = 2 * regs.length;
    regs.forEach((r, i) => out.writeUInt16BE(r & 0xffff, 9 + 2 * i));
    rec.answer = 'regs';
    sock.write(out);
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  srv.port = server.address().port;
  srv.close = () => new Promise((resolve) => {
    for (const s of srv.sockets) s.destroy();
    server.close(() => resolve());
  });
  return srv;
}

// ---------------------------------------------------------------- SunSpec, as a SolarEdge inverter serves it

// Holding registers, 0-based as on the wire (SolarEdge's "SunSpec Implementation" note lists them
// 1-based): common block at 40000, inverter model 101 at 40069, meter 1's common block at 40121 and
// its model 201 at 40188, StorEdge battery 1 at 0xE100. A read that touches an address outside
// these blocks is answered with exception 2, as the inverter does.
const BLOCKS = [
  [40000, 40069], // "SunS" + common model 1 (DID 1, length 65)
  [40069, 40121], // inverter model 101 (single phase), length 50
  [40121, 40188], // meter 1 common model 1
  [40188, 40295], // meter 1 model 201 (single phase), length 105
  [0xe100, 0xe1a0], // battery 1
];

const i16 = (v) => v & 0xffff;
const NI16 = 0x8000; // SunSpec int16 "not implemented"

// A power figure as SunSpec int16 + int16 scale factor, with the finest scale that fits (SolarEdge
// changes its scale factors with the magnitude, so a reader must apply them every time).
export function sunspecScaled(w) {
  for (let sf = -2; sf <= 4; sf++) {
    const v = Math.round(w / 10 ** sf);
    if (v >= -32767 && v <= 32767) return [i16(v), i16(sf)];
  }
  throw new Error(`${w} does not fit SunSpec int16`);
}

// float32 over two registers, low-order word first (SolarEdge's battery registers).
export function floatLW(x) {
  const b = Buffer.alloc(4);
  b.writeFloatBE(x, 0);
  return [b.readUInt16BE(2), b.readUInt16BE(0)];
}

function putString(bank, addr, nregs, s) {
  const b = Buffer.alloc(nregs * 2);
  b.write(s, 'latin1');
  for (let i = 0; i < nregs; i++) bank.set(addr + i, b.readUInt16BE(2 * i));
}

// The register bank of a SolarEdge single-phase inverter with meter 1 at the grid connection point and
// a StorEdge battery, from plain figures in this project's conventions:
// pv W (>= 0), grid W (+ import), battery W (+ discharging), soe %.
export function solarEdgeBank({ unit, pv, grid, battery, soe }) {
  const bank = new Map();
  const put = (a, vals) => vals.forEach((v, i) => bank.set(a + i, v));
  put(40000, [0x5375, 0x6e53]); // "SunS"
  put(40002, [1, 65]);
  putString(bank, 40004, 16, 'SolarEdge');
  putString(bank, 40020, 16, 'SE5000H-RW000BNN4');
  putString(bank, 40044, 8, '0004.0020.0036');
  putString(bank, 40052, 16, '7E0A1B2C');
  bank.set(40068, unit);

  // Inverter model 101: I_AC_Power at 40083 with its scale factor at 40084.
  put(40069, [101, 50]);
  const [acW, acSf] = sunspecScaled(pv);
  put(40071, [i16(Math.round(pv / 230 * 100)), i16(Math.round(pv / 230 * 100)), NI16, NI16, i16(-2)]); // A
  put(40076, [NI16, NI16, NI16, 2300, NI16, NI16, i16(-1)]); // V
  put(40083, [acW, acSf]);
  put(40085, [5000, i16(-2)]); // Hz
  put(40087, [acW, acSf, 0, 0, i16(10000), i16(-2)]); // VA, VAr, PF
  put(40093, [0x0012, 0xd687, 0]); // lifetime energy, acc32, Wh
  put(40096, [NI16, NI16, 3800, i16(-1)]); // DC A, DC V
  const [dcW, dcSf] = sunspecScaled(pv * 1.03);
  put(40100, [dcW, dcSf]);
  put(40102, [NI16, 4200, NI16, NI16, i16(-2)]); // temperatures
  put(40107, [pv > 0 ? 4 : 2, 0]); // 4 MPPT (producing), 2 sleeping

  // Meter 1: common block, then model 201. The meter counts export positive.
  put(40121, [1, 65]);
  putString(bank, 40123, 16, 'WattNode');
  putString(bank, 40139, 16, 'WNC-3Y-400-MB');
  bank.set(40187, 2);
  put(40188, [201, 105]);
  const [mW, mSf] = sunspecScaled(-grid);
  put(40190, [i16(Math.round(-grid / 230 * 100)), i16(Math.round(-grid / 230 * 100)), 0, 0, i16(-2)]); // A
  put(40195, [23000, 23000, 0, 0, NI16, NI16, NI16, NI16, i16(-2)]); // V
  put(40204, [5000, i16(-2)]); // Hz
  put(40206, [mW, mW, 0, 0, mSf]); // W total, per phase, SF

  // Battery 1: strings, then float32 figures, low word first. Instantaneous power counts charging +.
  putString(bank, 0xe100, 16, 'LG');
  putString(bank, 0xe110, 16, 'RESU 10H');
  putString(bank, 0xe120, 16, 'DCDC 1.2.3');
  putString(bank, 0xe130, 16, 'BT0123456789');
  bank.set(0xe140, 15);
  put(0xe142, floatLW(9800)); // rated energy Wh
  put(0xe144, floatLW(5000)); // max charge continuous power
  put(0xe146, floatLW(5000)); // max discharge continuous power
  put(0xe16c, floatLW(24.5)); // average temperature
  put(0xe16e, floatLW(26)); // max temperature
  put(0xe170, floatLW(400.2)); // instantaneous voltage
  put(0xe172, floatLW(-battery / 400.2)); // instantaneous current
  put(0xe174, floatLW(-battery)); // instantaneous power, + charging
  put(0xe176, [0x5678, 0x1234, 0, 0]); // lifetime export Wh, uint64
  put(0xe17a, [0x9abc, 0x0012, 0, 0]); // lifetime import Wh, uint64
  put(0xe17e, floatLW(9500)); // max energy
  put(0xe180, floatLW(9500 * soe / 100)); // available energy
  put(0xe182, floatLW(97)); // state of health
  put(0xe184, floatLW(soe)); // state of energy, %
  put(0xe186, [battery < 0 ? 3 : battery > 0 ? 4 : 6, 0]); // status: 3 charging, 4 discharging, 6 idle
  return bank;
}

// Registers [addr, addr + count) of a bank, or exception 2 if any is outside the served blocks.
export function readBank(bank, addr, count) {
  const out = [];
  for (let a = addr; a < addr + count; a++) {
    if (!BLOCKS.some(([from, to]) => a >= from && a < to)) return MB_ILLEGAL_ADDRESS;
    out.push(bank.get(a) ?? 0);
  }
  return out;
}

// ---------------------------------------------------------------- MQTT

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const haveMosquitto = () => existsSync(MOSQUITTO);

// A mosquitto broker on a free loopback port, with its log in dir. Resolves once it accepts TCP.
export async function startMosquitto(dir) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = path.join(dir, 'mosquitto.conf');
    const log = path.join(dir, 'mosquitto.log');
    writeFileSync(conf, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      `log_dest file ${log}`,
      'log_type all',
      // Run as root (a container), mosquitto would switch to its own user, who cannot write our log.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'));
    const broker = await start(MOSQUITTO, ['-c', conf]);
    const end = Date.now() + 10000;
    while (Date.now() < end && !broker.exited) {
      if (await portAccepts(port)) {
        broker.port = port;
        broker.log = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
        return broker;
      }
      await sleep(20);
    }
    if (!broker.exited) {
      broker.child.kill('SIGKILL');
      throw new Error(`mosquitto does not listen on ${port}: ${broker.stderr}`);
    }
    // Someone took the port between freePort() and the broker's bind: another one.
  }
  throw new Error('mosquitto would not start');
}

function mqttString(s) {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function mqttPacket(type, body) {
  const len = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    len.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}

// An MQTT 3.1.1 client that only publishes at QoS 0: CONNECT (clean session, no keepalive), wait for
// CONNACK, PUBLISH, DISCONNECT.
export async function mqttConnect(port, clientId) {
  const sock = net.createConnection({ host: '127.0.0.1', port });
  sock.setNoDelay(true);
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const connack = new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4) return;
      sock.off('data', onData);
      if (buf[0] !== 0x20 || buf[1] !== 2) reject(new Error(`not a CONNACK: ${buf.toString('hex')}`));
      else if (buf[3] !== 0) reject(new Error(`CONNACK return code ${buf[3]}`));
      else resolve();
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('close', () => reject(new Error('the broker closed the connection before CONNACK')));
  });
  const connect = Buffer.concat([
    mqttString('MQTT'),
    Buffer.from([4, 0x02, 0, 0]), // level 4 (3.1.1), clean session, keepalive 0 (off)
    mqttString(clientId),
  ]);
  sock.write(mqttPacket(0x10, connect));
  await connack;
  sock.on('error', () => {});
  return {
    publish(topic, payload, { retain = false } = {}) {
      if (sock.destroyed) throw new Error('the MQTT connection is closed');
      sock.write(mqttPacket(0x30 | (retain ? 1 : 0), Buffer.concat([mqttString(topic), Buffer.from(payload)])));
    },
    close() {
      return new Promise((resolve) => {
        if (sock.destroyed) { resolve(); return; }
        sock.end(mqttPacket(0xe0, Buffer.alloc(0)), () => { sock.destroy(); resolve(); });
      });
    },
  };
}

// ---------------------------------------------------------------- HTTPS: a Powerwall's local API

// A self-signed P-256 certificate for 127.0.0.1 (the openssl command line, as a device makes its own),
// and the pin of its key as curl's CURLOPT_PINNEDPUBLICKEY takes it: sha256// and the base64 SHA-256
// of the DER SubjectPublicKeyInfo, computed here by node from the private key, not from the certificate.
export function selfSignedCert(dir, name) {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'pipe' });
  const key = readFileSync(keyFile);
  const spki = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
  return { key, cert: readFileSync(certFile), pin: `sha256//${crypto.createHash('sha256').update(spki).digest('base64')}` };
}

// A Powerwall 2 gateway's local API on 127.0.0.1 with { key, cert }: POST /api/login/Basic (the
// customer password) gives a session token, which GET /api/meters/aggregates and
// /api/system_status/soe want as bearer. figures: { grid, pv, load, battery, soe }, changeable.
// Recorded: connections (one per TCP connection: { at, tls: handshake done, requests }) and requests
// ({ at, conn, method, url, authorization, raw: request line, headers and body as received }).
// port 0: any free port; else that one (a second device on the same address).
export async function startPowerwall({ key, cert, password, port = 0, figures = {} }) {
  const pw = { connections: [], requests: [], token: `pw-session-${crypto.randomBytes(8).toString('hex')}`,
    figures: { grid: 500, pv: 3000, load: 3500, battery: 0, soe: 55, ...figures } };
  const meter = (w) => ({ last_communication_time: new Date().toISOString(), instant_power: w,
    instant_reactive_power: 0, instant_apparent_power: Math.abs(w), frequency: 0, energy_exported: 0, energy_imported: 0,
    instant_average_voltage: 230, instant_average_current: Math.abs(w) / 230, i_a_current: 0, i_b_current: 0,
    i_c_current: 0, timeout: 1500000000, num_meters_aggregated: 1, instant_total_current: Math.abs(w) / 230 });
  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const conn = req.socket.twConn;
      if (conn) conn.requests++;
      const head = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
      pw.requests.push({ at: Date.now(), conn: conn?.n, method: req.method, url: req.url,
        authorization: req.headers.authorization ?? null, raw: `${req.method} ${req.url}\r\n${head}\r\n\r\n${body}` });
      const send = (code, obj) => {
        const text = JSON.stringify(obj);
        res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      };
      const authed = req.headers.authorization === `Bearer ${pw.token}`;
      const f = pw.figures;
      if (req.method === 'POST' && req.url === '/api/login/Basic') {
        let login = {};
        try { login = JSON.parse(body); } catch { /* answered 401 below */ }
        if (login.password === password) send(200, { email: login.email ?? '', firstname: 'Tesla', lastname: 'Energy', roles: ['Home_Owner'], token: pw.token, provider: 'Basic', loginTime: new Date().toISOString() });
        else send(401, { code: 401, error: 'bad credentials', message: 'Login Error' });
      } else if (req.method === 'GET' && req.url === '/api/meters/aggregates') {
        if (!authed) send(401, { code: 401, error: 'token invalid', message: 'Invalid Token' });
        else send(200, { site: meter(f.grid), battery: meter(f.battery), load: meter(f.load), solar: meter(f.pv) });
      } else if (req.method === 'GET' && req.url === '/api/system_status/soe') {
        if (!authed) send(401, { code: 401, error: 'token invalid', message: 'Invalid Token' });
        else send(200, { percentage: f.soe });
      } else {
        send(404, { code: 404, error: 'not found' });
      }
    });
  });
  server.on('connection', (sock) => {
    const conn = { n: pw.connections.length, at: Date.now(), tls: false, requests: 0 };
    pw.connections.push(conn);
    sock.twConn = conn;
  });
  server.on('secureConnection', (tls) => {
    // The TLS socket wraps the TCP one the 'connection' event saw.
    const conn = tls._parent?.twConn ?? tls.twConn;
    if (conn) { conn.tls = true; tls.twConn = conn; }
  });
  server.on('tlsClientError', () => {});
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  pw.port = server.address().port;
  // Whether any request carried @secret anywhere (request line, headers, body).
  pw.sawSecret = (secret) => pw.requests.some((r) => r.raw.includes(secret));
  pw.close = () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return pw;
}

// ---------------------------------------------------------------- twc-sim, sampled

// Samples slave 0 of a twc-sim every ~200 ms through its control socket: { at, told, inForce, drawn };
// told -1 = never told. The same sampler as ems_policy.test.mjs uses.
export function startSampler(ctl) {
  const s = { samples: [], running: true };
  s.done = (async () => {
    while (s.running) {
      try {
        const x = (await status(ctl)).slaves[0];
        if (x) s.samples.push({ at: Date.now(), told: x.toldAmps, inForce: x.inForceAmps, drawn: x.drawnAmps });
      } catch { /* the simulator is going away */ }
      await sleep(200);
    }
  })();
  s.last = () => s.samples[s.samples.length - 1];
  s.between = (a, b = Infinity) => s.samples.filter((x) => x.at >= a && x.at <= b);
  s.stop = async () => { s.running = false; await s.done; };
  // Every sample of the last holdMs (all taken after `after`) satisfies pred: the loop has settled.
  s.waitSettled = (what, pred, holdMs, timeoutMs, after = Date.now()) => waitFor(what, async () => {
    const l = s.last();
    if (!l || l.at - holdMs < after) return null;
    const win = s.between(l.at - holdMs);
    return win.length >= holdMs / 400 && win.every(pred) ? l : null;
  }, timeoutMs, 50);
  // A sample taken after `after` that satisfies pred.
  s.waitFor = (what, pred, timeoutMs, after = Date.now()) => waitFor(what, async () => {
    const l = s.last();
    return l && l.at >= after && pred(l) ? l : null;
  }, timeoutMs, 50);
  return s;
}

// The told amps over time as "t+12.3s 12A (draw 11.8)" at every change, for failure messages.
export function timeline(samples, t0) {
  const out = [];
  let prev;
  for (const x of samples) {
    if (x.told !== prev) out.push(`t+${((x.at - t0) / 1000).toFixed(1)}s ${x.told}A (draw ${x.drawn})`);
    prev = x.told;
  }
  return out.join(', ');
}

// Starts (told 0 or never -> > 0) and stops (> 0 -> 0) in a run of samples.
export function transitions(samples) {
  let starts = 0, stops = 0, prev = 0;
  for (const x of samples) {
    const on = x.told > 0;
    if (on && !(prev > 0)) starts++;
    if (!on && prev > 0) stops++;
    prev = x.told;
  }
  return { starts, stops };
}

// The twc-sim and twcgw set-up the meter tests share: one simulated slave on TCP, and a 32 A
// single-phase 230 V installation with a status line every second.
export async function startSim(dir) {
  const ctl = path.join(dir, 'sim.sock');
  const sim = await start(TWCSIM, ['--tcp', '0', '--control', ctl, '--seed', '11', '--slaves', '1', '--plug', '0'],
    { readyRe: /^ready tcp (\S+)/m });
  return { sim, ctl, port: `tcp://${sim.ready[1]}` };
}

export function gatewayConfig(dir, port, extra) {
  return writeConfig(dir, { port, wiringMaxAmpsAllTWCs: 32, wiringMaxAmpsPerTWC: 32, minAmpsPerTWC: 6, voltage: 230, phases: 1 },
    { log: { statusInterval: 1 }, ...extra });
}

export const logLines = (gw, re) => gw.stderr.split('\n').filter((l) => re.test(l));
