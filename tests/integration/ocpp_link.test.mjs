// The OCPP websocket link of the real twcgw against a small hand-written central system (node:http /
// node:https upgrade + RFC 6455 framing, no npm): subprotocol, URL path, Basic auth, BootNotification
// first, connectors for the TWCs of a twc-sim over a pty, ping and dead-link detection, a new
// AuthorizationKey and WebSocketPingInterval from the central system, reconnects with a growing
// backoff, wss:// with a pinned CA (and a wrong one), Reset as an in-place restart, SIGHUP, clean
// SIGTERM, and the config checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { TWCGW, start, stop, run, tempDir, cleanup, waitFor, writeConfig, startPair } from './lib.mjs';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = 'k3y-For-The-Test-0123';

function frame(op, payload = Buffer.alloc(0), fin = true) {
  const len = payload.length;
  const b0 = (fin ? 0x80 : 0) | op;
  const head = len < 126 ? Buffer.from([b0, len])
    : len < 65536 ? Buffer.from([b0, 126, len >> 8, len & 0xff])
      : (() => { const b = Buffer.alloc(10); b[0] = b0; b[1] = 127; b.writeBigUInt64BE(BigInt(len), 2); return b; })();
  return Buffer.concat([head, payload]);
}

// Answers CALLs like a permissive central system, so the charge point gets past its boot.
function reply(conn, text) {
  let msg;
  try { msg = JSON.parse(text); } catch { return; }
  if (!Array.isArray(msg) || msg[0] !== 2) return;
  const [, id, action] = msg;
  const now = new Date().toISOString();
  const payload = action === 'BootNotification' ? { status: 'Accepted', currentTime: now, interval: 300 }
    : action === 'Heartbeat' ? { currentTime: now }
      : action === 'Authorize' ? { idTagInfo: { status: 'Accepted' } }
        : action === 'StartTransaction' ? { transactionId: 1000 + conn.server.conns.length, idTagInfo: { status: 'Accepted' } }
          : action === 'StopTransaction' ? { idTagInfo: { status: 'Accepted' } } : {};
  conn.send(JSON.stringify([3, id, payload]));
}

// A websocket server that records every TCP connection, upgrade and message. `refuse` drops that
// many TCP connections right after accept (a central system that is up but broken).
function csms({ tls = null } = {}) {
  const server = tls ? https.createServer(tls) : http.createServer();
  const s = { server, tcp: [], conns: [], refuse: 0, tlsErrors: [] };
  server.on('connection', (sock) => {
    s.tcp.push(Date.now());
    if (s.refuse > 0) { s.refuse--; sock.destroy(); }
  });
  server.on('tlsClientError', (err) => s.tlsErrors.push(err.message));
  server.on('request', (req, res) => { res.writeHead(426); res.end(); });
  server.on('upgrade', (req, socket) => {
    const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + WS_GUID).digest('base64');
    const offered = (req.headers['sec-websocket-protocol'] || '').split(',').map((x) => x.trim());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + `Sec-WebSocket-Accept: ${accept}\r\n`
      + (offered.includes('ocpp1.6') ? 'Sec-WebSocket-Protocol: ocpp1.6\r\n' : '') + '\r\n');
    const conn = {
      server: s, req, socket, at: Date.now(), messages: [], pings: 0, answerPings: true, closed: false,
      send: (text) => socket.write(frame(1, Buffer.from(text))),
      close: () => { socket.write(frame(8, Buffer.from([0x03, 0xe8]))); socket.end(); },
    };
    s.conns.push(conn);
    let buf = Buffer.alloc(0);
    let partial = [];
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) break;
        const op = buf[0] & 0x0f, fin = buf[0] & 0x80, masked = buf[1] & 0x80;
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
        if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        const mlen = masked ? 4 : 0;
        if (buf.length < off + mlen + len) break;
        const payload = Buffer.from(buf.subarray(off + mlen, off + mlen + len));
        if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[off + (i & 3)];
        buf = buf.subarray(off + mlen + len);
        conn.masked = masked !== 0;
        if (op === 1 || op === 0) {
          partial.push(payload);
          if (fin) {
            const text = Buffer.concat(partial).toString();
            partial = [];
            conn.messages.push(text);
            reply(conn, text);
          }
        } else if (op === 9) {
          conn.pings++;
          if (conn.answerPings) socket.write(frame(10, payload));
        } else if (op === 8) {
          socket.end(frame(8, payload.subarray(0, 2)));
        }
      }
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => { conn.closed = true; });
    socket.on('error', () => {});
  });
  s.listen = (port = 0) => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
  s.close = () => new Promise((resolve) => { for (const c of s.conns) c.socket.destroy(); server.close(() => resolve()); });
  return s;
}

const parsed = (conn) => conn.messages.map((m) => JSON.parse(m));
const calls = (conn, action) => parsed(conn).filter((m) => m[0] === 2 && m[2] === action);

function freePort() {
  const s = http.createServer();
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  }));
}

// A gateway on a TWC port that never opens: only the OCPP link matters for these cases.
async function startGateway(dir, ocpp, args = []) {
  const cfg = writeConfig(dir, { port: path.join(dir, 'no-such-tty') }, { ocpp });
  return start(TWCGW, ['-c', cfg, ...args]);
}

test('ws link: subprotocol, path, Basic auth, BootNotification first, connectors, ping, reconnects', { timeout: 120000 }, async () => {
  const dir = tempDir();
  const cs = csms();
  const port = await cs.listen();
  const ocpp = {
    url: `ws://127.0.0.1:${port}/steve/websocket/CentralSystemService/`,
    chargeBoxId: 'garage#1',
    securityProfile: 1,
    authorizationKey: KEY,
    keys: { WebSocketPingInterval: 1 },
  };
  const pair = await startPair(dir, { transport: 'pty', extra: { ocpp } });
  try {
    const c1 = await waitFor('a websocket', async () => cs.conns[0], 10000);
    assert.equal(c1.req.url, '/steve/websocket/CentralSystemService/garage%231', 'the id is the last segment, encoded');
    assert.deepEqual(c1.req.headers['sec-websocket-protocol'].split(',').map((x) => x.trim()), ['ocpp1.6']);
    const auth = c1.req.headers.authorization || '';
    assert.match(auth, /^Basic /);
    assert.equal(Buffer.from(auth.slice(6), 'base64').toString(), `garage#1:${KEY}`);

    const first = await waitFor('a first frame', async () => parsed(c1)[0], 10000);
    assert.equal(first[0], 2);
    assert.equal(first[2], 'BootNotification');
    assert.equal(first[3].chargePointVendor, 'twcgw');
    assert.equal(first[3].chargePointModel, 'TWC-Gen2-Gateway');
    assert.ok(c1.masked, 'client frames are masked');

    // Each simulated TWC becomes a connector and is reported.
    await waitFor('StatusNotification for connectors 1..3', async () => {
      const ids = new Set(calls(c1, 'StatusNotification').map((m) => m[3].connectorId));
      return [1, 2, 3].every((i) => ids.has(i));
    }, 20000, 200);

    // Status lines per connector come with the bus's (log.statusInterval 5 s).
    await waitFor('an OCPP status line', async () => /ocpp: connector 3 TWC [0-9A-F]{4} +\w+/.test(pair.gw.stderr), 8000);

    // WebSocketPingInterval 1: pings every second, answered, so the link stays.
    await waitFor('3 pings', async () => c1.pings >= 3, 8000);
    assert.equal(c1.closed, false);

    // The server closes: the gateway comes back after about a second.
    const closedAt = Date.now();
    c1.close();
    const c2 = await waitFor('a second websocket', async () => cs.conns[1], 5000);
    assert.ok(c2.at - closedAt >= 700 && c2.at - closedAt <= 3000, `reconnected after ${c2.at - closedAt} ms`);

    // A server that stops answering pings is dropped after max(10 s, interval) and reconnected to.
    c2.answerPings = false;
    const silentAt = Date.now();
    await waitFor('the silent link dropped', async () => c2.closed, 16000, 200);
    const dropped = Date.now() - silentAt;
    assert.ok(dropped >= 9000, `dropped after ${dropped} ms`);
    const c3 = await waitFor('a third websocket', async () => cs.conns[2], 8000);
    assert.match(pair.gw.stderr, /no PONG within 10 s/);

    // ChangeConfiguration AuthorizationKey: the answer first, then a new connection with the new key,
    // and the key saved in a file only its owner can read.
    const key2 = 'an0ther-Key-For-The-Test';
    c3.send(JSON.stringify([2, 'cc1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: key2 }]));
    const c4 = await waitFor('a fourth websocket', async () => cs.conns[3], 8000);
    assert.deepEqual(parsed(c3).find((m) => m[0] === 3 && m[1] === 'cc1'), [3, 'cc1', { status: 'Accepted' }]);
    assert.equal(Buffer.from(c4.req.headers.authorization.slice(6), 'base64').toString(), `garage#1:${key2}`);
    const saved = path.join(dir, 'data', 'ocpp-config.json');
    assert.equal(statSync(saved).mode & 0o777, 0o600);
    assert.match(readFileSync(saved, 'utf8'), new RegExp(key2));

    // WebSocketPingInterval 0 stops the pings on the open link.
    c4.send(JSON.stringify([2, 'cc2', 'ChangeConfiguration', { key: 'WebSocketPingInterval', value: '0' }]));
    await waitFor('the change answered', async () => parsed(c4).some((m) => m[0] === 3 && m[1] === 'cc2'), 5000);
    const pings = c4.pings;
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(c4.pings <= pings + 1, `pings went on: ${pings} -> ${c4.pings}`);
    assert.equal(c4.closed, false);

    assert.ok(!pair.gw.stderr.includes(KEY) && !pair.gw.stderr.includes(key2), 'the key is never logged');
    const r = await stop(pair.gw, 'SIGTERM');
    assert.equal(r.code, 0, pair.gw.stderr.slice(-2000));
  } finally {
    await stop(pair.gw, 'SIGKILL');
    await stop(pair.sim);
    await cs.close();
    cleanup(dir);
  }
});

test('down at start: retries with a growing backoff, then connects; big and fragmented messages', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const port = await freePort();
  const gw = await startGateway(dir, { url: `ws://127.0.0.1:${port}`, chargeBoxId: 'cp2' });
  const cs = csms();
  try {
    await waitFor('the first failure logged', async () => /cannot connect to ws:\/\/127\.0\.0\.1/.test(gw.stderr), 8000);
    // Up, but dropping the next two connections: their spacing shows the backoff.
    cs.refuse = 2;
    await cs.listen(port);
    const c = await waitFor('a websocket', async () => cs.conns[0], 20000, 50);
    assert.equal(cs.tcp.length, 3, `attempts at ${cs.tcp}`);
    const g1 = cs.tcp[1] - cs.tcp[0], g2 = cs.tcp[2] - cs.tcp[1];
    // 2 s then 4 s, each +-25 %.
    assert.ok(g1 >= 1400 && g1 <= 3200, `first gap ${g1} ms`);
    assert.ok(g2 >= 2900 && g2 <= 6000 && g2 > g1, `second gap ${g2} ms after ${g1} ms`);
    await waitFor('BootNotification', async () => calls(c, 'BootNotification').length > 0, 5000);

    // A message above 65000 bytes is dropped and logged; the link stays and a fragmented one that
    // follows is put back together and answered.
    const big = JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(70000) }]);
    c.socket.write(frame(1, Buffer.from(big)));
    await waitFor('the drop logged', async () => /dropped a message of more than 65000 bytes/.test(gw.stderr), 5000);
    const get = Buffer.from(JSON.stringify([2, 'g1', 'GetConfiguration', { key: ['HeartbeatInterval'] }]));
    c.socket.write(frame(1, get.subarray(0, 10), false));
    c.socket.write(frame(0, get.subarray(10), true));
    const res = await waitFor('the GetConfiguration answer', async () => parsed(c).find((m) => m[0] === 3 && m[1] === 'g1'), 5000);
    assert.equal(res[2].configurationKey[0].key, 'HeartbeatInterval');
    assert.ok(!parsed(c).some((m) => m[1] === 'big'), 'the big one was not answered');

    // Far more CALLs at once than the outbound queue holds (64): reading stops while it is full, so
    // every one is answered, none dropped (before, 4,716 of 5,000 went unanswered).
    const N = 3000;
    const burst = [];
    for (let i = 0; i < N; i++) burst.push(frame(1, Buffer.from(JSON.stringify([2, `b${i}`, 'GetConfiguration', { key: ['HeartbeatInterval'] }]))));
    c.socket.write(Buffer.concat(burst));
    const answered = () => new Set(parsed(c).filter((m) => (m[0] === 3 || m[0] === 4) && /^b\d+$/.test(m[1])).map((m) => m[1]));
    await waitFor(`${N} answers`, async () => answered().size === N, 20000, 100);
    assert.ok(parsed(c).filter((m) => m[0] === 3 && /^b\d+$/.test(m[1])).length === N, 'all CALLRESULTs');
    assert.equal(c.closed, false);
    const r = await stop(gw, 'SIGTERM');
    assert.equal(r.code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});

test('Reset restarts the same process; SIGHUP keeps the running ocpp section', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const cs = csms();
  const port = await cs.listen();
  const gw = await startGateway(dir, { url: `ws://127.0.0.1:${port}`, chargeBoxId: 'cp-reset' });
  try {
    const c1 = await waitFor('a websocket', async () => cs.conns[0], 10000);
    await waitFor('BootNotification', async () => calls(c1, 'BootNotification').length > 0, 5000);

    const cfgFile = path.join(dir, 'twcgw.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    cfg.ocpp.chargeBoxId = 'cp-renamed';
    writeFileSync(cfgFile, JSON.stringify(cfg));
    gw.child.kill('SIGHUP');
    await waitFor('the reload warning', async () => /ocpp\.\* changed; those changes take effect after a restart/.test(gw.stderr), 5000);
    assert.equal(c1.closed, false);

    c1.send(JSON.stringify([2, 'rs1', 'Reset', { type: 'Soft' }]));
    const c2 = await waitFor('a websocket after the reset', async () => cs.conns[1], 15000);
    assert.deepEqual(parsed(c1).find((m) => m[0] === 3 && m[1] === 'rs1'), [3, 'rs1', { status: 'Accepted' }]);
    await waitFor('BootNotification again', async () => calls(c2, 'BootNotification').length > 0, 5000);
    assert.equal(c2.req.url, '/cp-renamed', 'the restart read the config again');
    assert.match(gw.stderr, /restarting/);
    assert.equal(gw.exited, null, 'the same process (pid) goes on');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCerts(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=twcgw test CA');
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
  openssl(dir, 'req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(dir, 'x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
  return { key: readFileSync(path.join(dir, 'srv.key')), cert: readFileSync(path.join(dir, 'srv.pem')) };
}

test('wss: the pinned CA connects, another CA does not', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const cs = csms({ tls: makeCerts(dir) });
  const port = await cs.listen();
  const ocpp = (ca) => ({
    url: `wss://localhost:${port}/ocpp`, chargeBoxId: 'cp-tls', securityProfile: 2,
    authorizationKey: KEY, caFile: path.join(dir, ca),
  });
  let gw;
  try {
    gw = await startGateway(dir, ocpp('ca.pem'));
    const c = await waitFor('a websocket over TLS', async () => cs.conns[0], 10000);
    assert.equal(c.req.url, '/ocpp/cp-tls');
    assert.equal(c.req.headers.host, `localhost:${port}`);
    assert.equal(Buffer.from(c.req.headers.authorization.slice(6), 'base64').toString(), `cp-tls:${KEY}`);
    assert.ok(c.socket.getProtocol() === 'TLSv1.3' || c.socket.getProtocol() === 'TLSv1.2');
    await waitFor('BootNotification', async () => calls(c, 'BootNotification').length > 0, 5000);
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));

    // ocpp.caFile is a starting value: the store in dataDir/certs holds the root now, and says so.
    gw = await startGateway(dir, ocpp('other.pem'));
    await waitFor('the root in the store kept', async () => /ocpp\.caFile .*other\.pem not read: the store already holds 1/.test(gw.stderr), 5000);
    await waitFor('a second websocket', async () => cs.conns.length === 2, 10000);
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));

    // A fresh store is seeded from the file: another CA is refused.
    rmSync(path.join(dir, 'data', 'certs'), { recursive: true, force: true });
    gw = await startGateway(dir, ocpp('other.pem'));
    await waitFor('a refused TLS handshake', async () => cs.tlsErrors.length > 0, 10000);
    await waitFor('the failure logged', async () => /cannot connect to wss:\/\/localhost/.test(gw.stderr), 5000);
    assert.match(gw.stderr, /certificate|verify|SSL|TLS/i);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(cs.conns.length, 2, 'no websocket with the wrong CA');
    assert.ok(!gw.stderr.includes(KEY), 'the key is never logged');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});

test('-n checks the ocpp section and names the key', () => {
  const dir = tempDir();
  try {
    const base = { url: 'ws://cs.example:8180/steve/websocket/CentralSystemService', chargeBoxId: 'cp1' };
    const ok = writeConfig(dir, { port: '/dev/ttyUSB0' }, { ocpp: { ...base, keys: { HeartbeatInterval: 600 } } });
    const good = run(TWCGW, ['-n', '-c', ok]);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /config OK/);

    const cases = [
      [{ ...base, securityProfile: 2, authorizationKey: KEY }, /ocpp\.(securityProfile|url)/],
      [{ ...base, securityProfile: 1 }, /ocpp\.authorizationKey/],
      [{ ...base, keys: { HeartbeatInterval: 'hourly' } }, /ocpp\.keys\.HeartbeatInterval/],
      [{ ...base, keys: { NoSuchKey: 1 } }, /ocpp\.keys\.NoSuchKey/],
      [{ url: base.url }, /ocpp\.chargeBoxId/],
      [{ ...base, url: 'http://cs.example/' }, /ocpp\.url/],
      [{ ...base, securityProfile: 1, authorizationKey: 'short:secret' }, /ocpp\.authorizationKey/],
    ];
    for (const [ocpp, re] of cases) {
      const f = writeConfig(dir, { port: '/dev/ttyUSB0' }, { ocpp });
      const r = run(TWCGW, ['-n', '-c', f]);
      assert.equal(r.status, 2, `${re} accepted: ${r.stdout}`);
      assert.match(r.stderr, re);
      if (ocpp.authorizationKey) assert.ok(!r.stderr.includes(ocpp.authorizationKey), `key echoed: ${r.stderr}`);
    }
  } finally {
    cleanup(dir);
  }
});
