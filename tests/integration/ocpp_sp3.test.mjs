// OCPP security profile 3 (TLS with a client certificate) of the real twcgw against a Node wss://
// central system that requires a client certificate, with a throw-away PKI made here by the openssl
// command line: the certificate is presented and no Basic auth is sent; a client certificate the
// server does not trust, an expired or misnamed server certificate, a server offering only TLS 1.1
// an HTTP 401 on the upgrade and a server that never answers are each refused, logged with their own
// reason, and retried; the security events of such failures reach the central system once it is
// reachable; and a certificate rotation runs end to end (SignCertificate, the CSR signed here,
// CertificateSigned, a reconnect with the new certificate that a restart keeps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { TWCGW, start, stop, run, tempDir, cleanup, waitFor, writeConfig } from './lib.mjs';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CBID = 'cp-sp3';

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

// A CA, the server's certificate for localhost, one expired and one for another host, the charge
// point's certificate (O = CpoName, CN = the serial, as the whitepaper asks), and the same from a
// second CA the server does not know. `openssl ca` is the one 3.0 tool that backdates a certificate.
function makePki(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name, cn) => openssl(dir, 'req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ca('ca', 'twcgw sp3 test CA');
  ca('rogue', 'a CA the server does not know');
  writeFileSync(path.join(dir, 'srv.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'other.ext'), 'subjectAltName=DNS:cs.other.example\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'cli.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  const leaf = (name, subj, caName, ext) => {
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`,
      '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', ext);
    chmodSync(path.join(dir, `${name}.key`), 0o600);
  };
  leaf('srv', '/CN=localhost', 'ca', 'srv.ext');
  leaf('other', '/CN=cs.other.example', 'ca', 'other.ext');
  leaf('cli', `/O=TestCPO/CN=${CBID}`, 'ca', 'cli.ext');
  leaf('rcli', `/O=TestCPO/CN=${CBID}`, 'rogue', 'cli.ext');
  writeFileSync(path.join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = d', '[d]', `dir = ${dir}`, 'database = $dir/index.txt', 'new_certs_dir = $dir',
    'serial = $dir/serial', 'default_md = sha256', 'policy = p', 'copy_extensions = none', '[p]',
    'commonName = supplied', ''].join('\n'));
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'serial'), '1000\n');
  openssl(dir, 'ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'srv.csr',
    '-out', 'expired.pem', '-notext', '-startdate', '20200101000000Z', '-enddate', '20200201000000Z',
    '-extfile', 'srv.ext');
  const read = (f) => readFileSync(path.join(dir, f));
  return {
    caFile: path.join(dir, 'ca.pem'),
    ca: read('ca.pem'),
    server: { key: read('srv.key'), cert: read('srv.pem') },
    expired: { key: read('srv.key'), cert: read('expired.pem') },
    otherHost: { key: read('other.key'), cert: read('other.pem') },
    client: { cert: path.join(dir, 'cli.pem'), key: path.join(dir, 'cli.key') },
    rogueClient: { cert: path.join(dir, 'rcli.pem'), key: path.join(dir, 'rcli.key') },
    keyText: read('cli.key').toString(),
  };
}

function frame(op, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | op, len]) : Buffer.from([0x80 | op, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

// A central system on node:https that asks for a client certificate and refuses a handshake without
// one it trusts. Records TLS errors and upgrades (headers, the client certificate, text frames) and
// answers a BootNotification. `status` != 101 refuses the upgrade with that HTTP status.
function csms(pki, { cert = pki.server, tls = {}, status = 101, optionalCert = false } = {}) {
  // optionalCert: Basic auth (profile 2) or a trusted certificate (profile 3); an untrusted one is refused.
  const server = https.createServer({ ...cert, ca: [pki.ca], requestCert: true, rejectUnauthorized: !optionalCert, ...tls });
  const s = { server, tlsErrors: [], conns: [], refused: 0 };
  server.on('tlsClientError', (err) => s.tlsErrors.push(err.message));
  server.on('request', (req, res) => { res.writeHead(426); res.end(); });
  server.on('upgrade', (req, socket) => {
    if (optionalCert && !socket.authorized && socket.getPeerCertificate().subject) {
      s.refused++;
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (status !== 101) {
      s.refused++;
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + WS_GUID).digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n`);
    const conn = { req, socket, peer: socket.getPeerCertificate(), authorized: socket.authorized, messages: [],
      protocol: socket.getProtocol(), cipher: socket.getCipher().name, pending: new Map(), seq: 0 };
    const send = (m) => socket.write(frame(1, Buffer.from(JSON.stringify(m))));
    // A CALL from the central system; resolves with the CALLRESULT's payload.
    conn.call = (action, payload) => new Promise((resolve, reject) => {
      const id = `cs-${++conn.seq}`;
      conn.pending.set(id, { resolve, reject });
      send([2, id, action, payload]);
    });
    s.conns.push(conn);
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        if (len === 127) return; // nothing that large in these cases
        if (buf.length < off + 4 + len) return;
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
        for (let i = 0; i < len; i++) payload[i] ^= buf[off + (i & 3)];
        buf = buf.subarray(off + 4 + len);
        if (op === 1) {
          const text = payload.toString();
          conn.messages.push(text);
          const m = JSON.parse(text);
          if (m[0] === 2 && m[2] === 'BootNotification')
            send([3, m[1], { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }]);
          else if (m[0] === 2 && m[2] === 'SignCertificate')
            send([3, m[1], { status: 'Accepted' }]);
          else if (m[0] === 2)
            send([3, m[1], {}]);
          else if ((m[0] === 3 || m[0] === 4) && conn.pending.has(m[1])) {
            const p = conn.pending.get(m[1]);
            conn.pending.delete(m[1]);
            if (m[0] === 3) p.resolve(m[2]); else p.reject(new Error(`CALLERROR ${m[2]}`));
          }
        } else if (op === 9) {
          socket.write(frame(10, payload));
        } else if (op === 8) {
          socket.end();
        }
      }
    });
    socket.on('error', () => {});
  });
  s.listen = (port = 0) => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
  s.close = () => new Promise((resolve) => { for (const c of s.conns) c.socket.destroy(); server.close(() => resolve()); });
  return s;
}

const ocppSp3 = (port, pki, client = pki.client, extra = {}) => ({
  url: `wss://localhost:${port}/ocpp`, chargeBoxId: CBID, securityProfile: 3,
  caFile: pki.caFile, certFile: client.cert, keyFile: client.key, ...extra,
});

// waitFor, with the gateway's log in the error: a TLS failure is told there, not here.
async function waitLogged(gw, what, fn, timeoutMs) {
  try {
    return await waitFor(what, fn, timeoutMs);
  } catch (e) {
    e.message += `\n--- twcgw log ---\n${gw.stderr.slice(-3000)}`;
    throw e;
  }
}

// A gateway whose TWC port never opens: only the OCPP link matters here.
function startGateway(dir, ocpp) {
  const cfg = writeConfig(dir, { port: path.join(dir, 'no-such-tty') }, { ocpp });
  return start(TWCGW, ['-c', cfg]);
}

// One refusal case: the gateway logs the failure with `re`, makes no websocket, and keeps trying.
async function refused(pki, serverOpts, ocpp, re, { minTlsErrors = 0 } = {}) {
  const dir = tempDir();
  const cs = csms(pki, serverOpts);
  const port = await cs.listen();
  const gw = await startGateway(dir, typeof ocpp === 'function' ? ocpp(port) : ocpp);
  try {
    await waitLogged(gw, `the failure logged as ${re}`, async () => re.test(gw.stderr), 10000);
    assert.match(gw.stderr, /cannot connect to wss:\/\/localhost:\d+\/ocpp\/cp-sp3/);
    // Still trying: a second attempt reaches the server after the backoff (1 s +-25 %).
    const seen = () => cs.tlsErrors.length + cs.refused;
    const first = seen();
    await waitFor('a further attempt', async () => seen() > first, 6000);
    assert.ok(cs.tlsErrors.length >= minTlsErrors, `server TLS errors: ${cs.tlsErrors}`);
    assert.equal(cs.conns.length, 0, 'no websocket');
    assert.equal(gw.exited, null, 'twcgw keeps running');
    assert.ok(!gw.stderr.includes('PRIVATE KEY'), 'no key material in the log');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
    return { gw, cs };
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
}

const pkiDir = tempDir();
const pki = makePki(pkiDir);
test.after(() => cleanup(pkiDir));

test('SP3: the client certificate is presented, no Basic auth, TLS 1.2+ with a whitepaper suite', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const cs = csms(pki);
  const port = await cs.listen();
  const ocpp = ocppSp3(port, pki);
  const checked = run(TWCGW, ['-n', '-c', writeConfig(dir, { port: '/dev/ttyUSB0' }, { ocpp })]);
  assert.equal(checked.status, 0, `twcgw -n refused the SP3 config: ${checked.stderr}`);
  const gw = await startGateway(dir, ocpp);
  try {
    const c = await waitLogged(gw, 'a websocket over TLS', async () => cs.conns[0], 10000);
    assert.equal(c.authorized, true);
    assert.equal(c.peer.subject.CN, CBID, 'the charge point certificate was presented');
    assert.equal(c.peer.subject.O, 'TestCPO');
    assert.equal(c.req.headers.authorization, undefined, 'profile 3 sends no Basic auth');
    assert.equal(c.req.url, `/ocpp/${CBID}`);
    assert.equal(c.req.headers.host, `localhost:${port}`);
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(c.protocol), c.protocol);
    await waitFor('BootNotification', async () => c.messages.some((m) => JSON.parse(m)[2] === 'BootNotification'), 5000);
    assert.match(gw.stderr, /connected to wss:\/\/localhost:\d+\/ocpp\/cp-sp3 .*security profile 3/);
    assert.equal(cs.tlsErrors.length, 0, cs.tlsErrors.join('; '));
    assert.ok(!gw.stderr.includes(pki.keyText.split('\n')[1]), 'the key is never logged');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});

test('SP3 over TLS 1.2 only: a whitepaper cipher suite is negotiated', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const cs = csms(pki, { tls: { maxVersion: 'TLSv1.2' } });
  const port = await cs.listen();
  const gw = await startGateway(dir, ocppSp3(port, pki));
  try {
    const c = await waitLogged(gw, 'a websocket over TLS 1.2', async () => cs.conns[0], 10000);
    assert.equal(c.protocol, 'TLSv1.2');
    assert.ok(['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384'].includes(c.cipher), c.cipher);
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});

test('SP3: a client certificate the server does not trust is refused, and twcgw keeps retrying', { timeout: 60000 }, async () => {
  await refused(pki, {}, (port) => ocppSp3(port, pki, pki.rogueClient),
    /cannot connect to .*: TLS handshake failed: 127\.0\.0\.1: .*our client certificate refused\?/, { minTlsErrors: 2 });
});

test('SP3 over TLS 1.2: a server that hangs up on an untrusted client certificate is a TLS failure', { timeout: 60000 }, async () => {
  await refused(pki, { tls: { maxVersion: 'TLSv1.2' } }, (port) => ocppSp3(port, pki, pki.rogueClient),
    /TLS handshake failed: 127\.0\.0\.1: .*our client certificate refused\?/,
    { minTlsErrors: 2 });
});

test('an expired server certificate is refused', { timeout: 60000 }, async () => {
  await refused(pki, { cert: pki.expired }, (port) => ocppSp3(port, pki),
    /server certificate refused: 127\.0\.0\.1: certificate has expired/);
});

test('a server certificate for another host is refused', { timeout: 60000 }, async () => {
  await refused(pki, { cert: pki.otherHost }, (port) => ocppSp3(port, pki),
    /server certificate refused: 127\.0\.0\.1: hostname mismatch/);
});

test('a server offering only TLS 1.1 is refused', { timeout: 60000 }, async () => {
  // OpenSSL 3 allows TLS 1.1 only at security level 0.
  await refused(pki, { tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' } },
    (port) => ocppSp3(port, pki), /TLS version refused: 127\.0\.0\.1: no TLS 1\.2 or later/);
});

test('HTTP 401 on the upgrade is an authentication failure', { timeout: 60000 }, async () => {
  await refused(pki, { status: 401 }, (port) => ocppSp3(port, pki), /authentication refused: 127\.0\.0\.1: HTTP 401/);
});

test('a server that accepts TCP and never answers is a timeout', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const held = [];
  const server = net.createServer((sock) => { held.push(sock); sock.on('error', () => {}); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const gw = await startGateway(dir, ocppSp3(server.address().port, pki));
  try {
    const t0 = Date.now();
    // lws gives up on the TLS handshake first (5 s); GW_WS_ATTEMPT_TIMEOUT_S (15 s) caps the rest.
    await waitLogged(gw, 'the timeout logged', async () => /cannot connect to wss:\/\/localhost:\d+\/ocpp\/cp-sp3: timed out: 127\.0\.0\.1: /.test(gw.stderr), 25000);
    assert.ok(Date.now() - t0 >= 4000, `after ${Date.now() - t0} ms`);
    assert.ok(held.length >= 1);
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    for (const sock of held) sock.destroy();
    await new Promise((resolve) => server.close(resolve));
    cleanup(dir);
  }
});

// The CALLs of one action a connection received, as payloads.
const calls = (c, action) => c.messages.map((t) => JSON.parse(t)).filter((m) => m[0] === 2 && m[2] === action).map((m) => m[3]);

test('security events: an expired server certificate is reported once the genuine one is back', { timeout: 90000 }, async () => {
  const dir = tempDir();
  let cs = csms(pki, { cert: pki.expired });
  const port = await cs.listen();
  const gw = await startGateway(dir, ocppSp3(port, pki));
  try {
    await waitLogged(gw, 'the refusal', async () => /server certificate refused/.test(gw.stderr), 10000);
    // A second refused attempt in the same outage: still one event.
    const first = cs.tlsErrors.length;
    await waitFor('a second attempt', async () => cs.tlsErrors.length > first, 8000);
    await cs.close();
    cs = csms(pki);
    await cs.listen(port);
    const c = await waitLogged(gw, 'a websocket with the genuine certificate', async () => cs.conns[0], 15000);
    await waitLogged(gw, 'InvalidCentralSystemCertificate', async () =>
      calls(c, 'SecurityEventNotification').some((p) => p.type === 'InvalidCentralSystemCertificate'), 10000);
    const events = calls(c, 'SecurityEventNotification');
    assert.equal(events.filter((p) => p.type === 'InvalidCentralSystemCertificate').length, 1, JSON.stringify(events));
    assert.match(events.find((p) => p.type === 'InvalidCentralSystemCertificate').techInfo, /expired/);
    assert.ok(events.some((p) => p.type === 'StartupOfTheDevice'), 'StartupOfTheDevice (critical) is sent too');
    // The security log that GetLog uploads has it.
    const log = readFileSync(path.join(dir, 'data', 'security.log'), 'utf8');
    assert.match(log, /InvalidCentralSystemCertificate/);
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});

// The central system's CA signs a CSR as a client certificate (the suite's own step, no person).
function signCsr(dir, csrPem, name, caName = 'ca') {
  writeFileSync(path.join(dir, `${name}.csr`), csrPem);
  execFileSync('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', path.join(pkiDir, `${caName}.pem`),
    '-CAkey', path.join(pkiDir, `${caName}.key`), '-CAcreateserial', '-out', `${name}.pem`, '-days', '2',
    '-extfile', path.join(pkiDir, 'cli.ext')], { cwd: dir, stdio: 'pipe' });
  return readFileSync(path.join(dir, `${name}.pem`), 'utf8');
}

test('rotation under SP3: SignCertificate, CertificateSigned, a reconnect with the new certificate, kept after a restart', { timeout: 120000 }, async () => {
  const dir = tempDir();
  const cs = csms(pki);
  const port = await cs.listen();
  const oldSerial = new (await import('node:crypto')).X509Certificate(readFileSync(pki.client.cert)).serialNumber;
  let gw = await startGateway(dir, ocppSp3(port, pki));
  try {
    const c = await waitLogged(gw, 'the first websocket', async () => cs.conns[0], 10000);
    await waitFor('BootNotification', async () => calls(c, 'BootNotification').length > 0, 5000);
    assert.equal(c.peer.serialNumber.toUpperCase(), oldSerial.toUpperCase());
    // Without CpoName the trigger is refused; with it, a CSR for CN = chargeBoxId, O = CpoName.
    assert.equal((await c.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' })).status, 'Rejected');
    assert.equal((await c.call('ChangeConfiguration', { key: 'CpoName', value: 'TestCPO' })).status, 'Accepted');
    assert.equal((await c.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' })).status, 'Accepted');
    await waitLogged(gw, 'SignCertificate', async () => calls(c, 'SignCertificate').length > 0, 10000);
    const csr = calls(c, 'SignCertificate')[0].csr;
    const subject = execFileSync('openssl', ['req', '-noout', '-subject', '-verify'], { input: csr }).toString();
    assert.match(subject, /O ?= ?TestCPO/);
    assert.match(subject, new RegExp(`CN ?= ?${CBID}`));

    // A chain from a CA the central system's root did not sign: Rejected, with the security event.
    const rogue = signCsr(dir, csr, 'rogue-signed', 'rogue');
    assert.equal((await c.call('CertificateSigned', { certificateChain: rogue })).status, 'Rejected');
    await waitLogged(gw, 'InvalidChargePointCertificate', async () =>
      calls(c, 'SecurityEventNotification').some((p) => p.type === 'InvalidChargePointCertificate'), 10000);

    // The genuine one: Accepted, then a reconnect within 60 s with it.
    const signed = signCsr(dir, csr, 'new-cli');
    const newSerial = new (await import('node:crypto')).X509Certificate(signed).serialNumber;
    const t0 = Date.now();
    assert.equal((await c.call('CertificateSigned', { certificateChain: signed })).status, 'Accepted');
    const c2 = await waitLogged(gw, 'a websocket with the new certificate', async () => cs.conns.find((x) =>
      x.peer.serialNumber && x.peer.serialNumber.toUpperCase() === newSerial.toUpperCase()), 60000);
    assert.ok(Date.now() - t0 < 60000);
    assert.equal(c2.authorized, true);
    await waitLogged(gw, 'the promotion logged', async () => /new charge point certificate works/.test(gw.stderr), 5000);
    const keyMode = statSync(path.join(dir, 'data', 'certs', 'cp-key.pem')).mode & 0o777;
    assert.equal(keyMode, 0o600);
    assert.ok(!gw.stderr.includes('PRIVATE KEY'), 'no key material in the log');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));

    // A restart keeps the new certificate, whatever certFile still names.
    const before = cs.conns.length;
    gw = await startGateway(dir, ocppSp3(port, pki));
    const c3 = await waitLogged(gw, 'a websocket after the restart', async () => cs.conns[before], 10000);
    assert.equal(c3.peer.serialNumber.toUpperCase(), newSerial.toUpperCase());
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});

// Whitepaper A05: the central system raises the profile; the first connection with it fails (the
// certificate is not one the central system trusts), so twcgw goes back to the profile before it.
test('SecurityProfile raised from 2 to 3: the first connection fails, twcgw falls back to 2', { timeout: 90000 }, async () => {
  const dir = tempDir();
  const cs = csms(pki, { optionalCert: true });
  const port = await cs.listen();
  const key = 'sp2-key-0123456789abcdef';
  const ocpp = ocppSp3(port, pki, pki.rogueClient, { securityProfile: 2, authorizationKey: key });
  const gw = await startGateway(dir, ocpp);
  try {
    const c = await waitLogged(gw, 'the profile 2 websocket', async () => cs.conns[0], 10000);
    assert.equal(Buffer.from(c.req.headers.authorization.slice(6), 'base64').toString(), `${CBID}:${key}`);
    await waitFor('BootNotification', async () => calls(c, 'BootNotification').length > 0, 5000);
    assert.equal((await c.call('ChangeConfiguration', { key: 'SecurityProfile', value: '3' })).status, 'Accepted');
    await waitLogged(gw, 'the fallback', async () => /first connection with security profile 3 failed .*back to 2/.test(gw.stderr), 20000);
    const c2 = await waitLogged(gw, 'a profile 2 websocket again', async () => cs.conns[1], 15000);
    assert.ok(c2.req.headers.authorization, 'Basic auth again');
    assert.ok(cs.refused >= 1, 'the profile 3 attempt was refused');
    const got = await c2.call('GetConfiguration', { key: ['SecurityProfile'] });
    assert.equal(got.configurationKey[0].value, '2');
    // A downgrade from the central system is still refused.
    assert.equal((await c2.call('ChangeConfiguration', { key: 'SecurityProfile', value: '1' })).status, 'Rejected');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0, gw.stderr.slice(-2000));
  } finally {
    await stop(gw, 'SIGKILL');
    await cs.close();
    cleanup(dir);
  }
});
