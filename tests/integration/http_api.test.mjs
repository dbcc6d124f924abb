// The status page's server from outside: the real twcgw with a real config and twc-sim on a pty, over
// real sockets. The page's files and headers, the REST API's good and bad requests (CSRF, unknown
// fields, a body too large, a wrong content type, a missing connector), controls that reach the
// simulated bus and survive a restart without touching the config file, the live event stream, the
// rate limit, /metrics checked by promtool, and beyond loopback: credentials (bearer token, password
// login with a session cookie) and no secret in any answer. Config errors name the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { TWCGW, TWCSIM, start, stop, tempDir, cleanup, waitFor, writeConfig, run } from './lib.mjs';
import { freePort } from './meter_mocks.mjs';

const TOKEN = 'it-token-0123456789abcdef';
const PASSWORD = 'correct horse battery';

async function req(port, method, p, { body, headers = {}, raw } = {}) {
  const h = { ...headers };
  let data = raw;
  if (body !== undefined) {
    data = JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const r = await fetch(`http://127.0.0.1:${port}${p}`, { method, headers: h, body: data });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

// The first @n server-sent events of /api/v1/events.
function events(port, n, timeoutMs) {
  return new Promise((resolve, reject) => {
    const got = [];
    const rq = http.get({ host: '127.0.0.1', port, path: '/api/v1/events' }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`events: ${res.statusCode}`)); return; }
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let k;
        while ((k = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, k);
          buf = buf.slice(k + 2);
          const ev = /^event: (.*)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (ev && data) got.push({ event: ev[1], data: JSON.parse(data[1]), at: Date.now() });
          if (got.length >= n) { rq.destroy(); resolve({ got, type: res.headers['content-type'] }); }
        }
      });
    });
    rq.on('error', (e) => { if (got.length < n) reject(e); });
    setTimeout(() => { rq.destroy(); reject(new Error(`only ${got.length} events in ${timeoutMs} ms`)); }, timeoutMs);
  });
}

async function startSim(dir) {
  return start(TWCSIM, ['--pty', path.join(dir, 'tty'), '--control', path.join(dir, 'sim.sock'), '--seed', '7',
    '--slaves', '1', '--plug', '0', '--ids', '1A2B'], { readyRe: /^ready pty (\S+)/m });
}

test('REST API on loopback: page, status, controls that reach the bus and survive a restart, events, metrics',
  { timeout: 150000 }, async () => {
    const dir = tempDir();
    let sim, gw;
    try {
      sim = await startSim(dir);
      const port = await freePort();
      const cfg = writeConfig(dir, { port: path.join(dir, 'tty'), wiringMaxAmpsAllTWCs: 32, wiringMaxAmpsPerTWC: 32 },
        { policy: { mode: 'charge-now' }, http: { listen: `127.0.0.1:${port}` } });
      const cfgBefore = readFileSync(cfg, 'utf8');
      gw = await start(TWCGW, ['-c', cfg]);
      await waitFor('the server', async () => (await req(port, 'GET', '/').catch(() => null))?.status === 200, 10000);

      // The page and its headers.
      const page = await req(port, 'GET', '/');
      assert.match(page.headers.get('content-type'), /^text\/html/);
      assert.match(page.text, /<meta name="viewport" content="width=device-width/);
      assert.doesNotMatch(page.text, /(src|href)="https?:\/\//, 'the page loads nothing from outside');
      assert.match(page.headers.get('content-security-policy'), /default-src 'self'/);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(page.headers.get('x-frame-options'), 'DENY');

      // Status: the car on 1A2B charges at the charge-now cap.
      const st = await waitFor('a charging connector', async () => {
        const r = await req(port, 'GET', '/api/v1/status');
        const c = r.json?.connectors?.[0];
        return c && c.state === 'charging' && c.offeredAmps > 0 ? r.json : null;
      }, 30000, 250);
      assert.equal(st.connectors[0].twc, '1A2B');
      assert.equal(st.bus.wiringMaxAmpsAllTWCs, 32);
      assert.ok(st.bus.heldAmps <= 32);
      assert.equal(st.ocpp, null);
      assert.equal(st.policy.mode, 'charge-now');

      // A change without the CSRF token is refused; with it, it reaches the bus.
      const session = (await req(port, 'GET', '/api/v1/session')).json;
      assert.match(session.csrf, /^[0-9a-f]{64}$/);
      assert.equal(session.authRequired.control, false);
      const csrf = { 'x-csrf-token': session.csrf };
      let r = await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off' } });
      assert.equal(r.status, 403);
      assert.match(r.json.error, /CSRF/);
      r = await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off' }, headers: { ...csrf, origin: 'http://evil.example' } });
      assert.equal(r.status, 403, 'a foreign Origin is refused even with the token');
      r = await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'sunshine' }, headers: csrf });
      assert.equal(r.status, 400);
      assert.equal(r.json.field, 'mode');
      assert.match(r.json.error, /mode/);
      r = await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off', colour: 'red' }, headers: csrf });
      assert.equal(r.status, 400);
      assert.equal(r.json.field, 'colour');
      r = await req(port, 'PUT', '/api/v1/settings/policy', { raw: '{"mode":"off"}', headers: { ...csrf, 'content-type': 'text/plain' } });
      assert.equal(r.status, 415);
      r = await req(port, 'PUT', '/api/v1/settings/policy', { raw: '{"mode": ', headers: { ...csrf, 'content-type': 'application/json' } });
      assert.equal(r.status, 400);
      assert.match(r.json.error, /not valid JSON/);
      r = await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off', pad: 'x'.repeat(20000) }, headers: csrf });
      assert.equal(r.status, 413);
      // DNS rebinding: another name pointed at 127.0.0.1 is not served by the loopback listener.
      const rebound = await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/api/v1/session', headers: { host: `evil.example:${port}` } },
          (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
      });
      assert.equal(rebound, 403);
      r = await req(port, 'DELETE', '/api/v1/status', { headers: csrf });
      assert.equal(r.status, 405);
      r = await req(port, 'GET', '/api/v1/nothing');
      assert.equal(r.status, 404);
      r = await req(port, 'GET', '/api/v1/history?sinse=1');
      assert.equal(r.status, 400);
      assert.equal(r.json.field, 'sinse');

      r = await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off' }, headers: csrf });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.policy.source, 'page', 'a change with the CSRF token is the page\'s');
      assert.equal(r.json.policy.value.mode, 'off');
      // A protocol 2 Wall Connector told 0 A still offers 6 A (twc-sim shows it as the real ones do), so
      // "off" shows as the policy at 0 A and the slave down at its floor.
      await waitFor('the bus to follow "off"', async () => {
        const s = (await req(port, 'GET', '/api/v1/status')).json;
        return s.policy.mode === 'off' && s.policy.amps === 0 && s.connectors[0].offeredAmps <= 6 ? s : null;
      }, 20000, 250);

      // A per-connector maximum.
      r = await req(port, 'PUT', '/api/v1/connectors/1/maxAmps', { body: { maxAmps: 99 }, headers: csrf });
      assert.equal(r.status, 400);
      assert.equal(r.json.field, 'maxAmps');
      r = await req(port, 'PUT', '/api/v1/connectors/7/maxAmps', { body: { maxAmps: 10 }, headers: csrf });
      assert.equal(r.status, 404);
      r = await req(port, 'PUT', '/api/v1/connectors/1/maxAmps', { body: { maxAmps: 10 }, headers: csrf });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.connectors[0].maxAmps, 10);
      r = await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'charge-now' }, headers: csrf });
      assert.equal(r.status, 200);
      await waitFor('charging again at the 10 A maximum', async () => {
        const s = (await req(port, 'GET', '/api/v1/status')).json;
        const c = s.connectors[0];
        return c.maxAmps === 10 && c.offeredAmps === 10 && c.heldAmps === 10 ? s : null;
      }, 20000, 250);

      // The live stream: a status event at once, and another without asking.
      const ev = await events(port, 2, 15000);
      assert.equal(ev.type, 'text/event-stream');
      assert.equal(ev.got[0].event, 'status');
      assert.ok(ev.got.some((e, i) => i > 0 && e.event === 'status'));

      // /metrics, checked by Prometheus' own linter when it is installed.
      r = await req(port, 'GET', '/metrics');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      assert.match(r.text, /^twcgw_connector_offered_amperes\{connector="1"\} 10$/m);
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
      if (!promtool.error) assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);

      // The rate limit: a burst beyond 40 requests from one peer meets 429.
      const burst = await Promise.all(Array.from({ length: 80 }, () => req(port, 'GET', '/api/v1/session')));
      assert.ok(burst.some((b) => b.status === 429), 'some requests of the burst are limited');
      assert.ok(burst.some((b) => b.status === 200));

      // After a restart the settings are still in force; the config file was never rewritten.
      await stop(gw);
      gw = await start(TWCGW, ['-c', cfg]);
      await waitFor('the server again', async () => (await req(port, 'GET', '/api/v1/settings').catch(() => null))?.status === 200, 10000);
      const set = (await req(port, 'GET', '/api/v1/settings')).json;
      assert.equal(set.policy.source, 'page');
      assert.equal(set.policy.value.mode, 'charge-now');
      assert.ok(existsSync(path.join(dir, 'data', 'settings.json')));
      assert.equal(readFileSync(cfg, 'utf8'), cfgBefore);
      await waitFor('the maximum again', async () => {
        const c = (await req(port, 'GET', '/api/v1/settings')).json.connectors[0];
        return c?.maxAmps === 10 && c.source === 'page';
      }, 20000, 250);
    } finally {
      await stop(gw);
      await stop(sim);
      cleanup(dir);
    }
  });

test('beyond loopback: credentials for reading and controls, login, no secret in any answer', { timeout: 90000 }, async () => {
  const dir = tempDir();
  let sim, gw;
  try {
    const hashed = spawnSync(TWCGW, ['--hash-password'], { input: PASSWORD + '\n', encoding: 'utf8' });
    assert.equal(hashed.status, 0, hashed.stderr);
    const hash = hashed.stdout.trim();
    assert.match(hash, /^pbkdf2-sha256\$\d+\$/);
    assert.ok(!hash.includes(PASSWORD));
    sim = await startSim(dir);
    const port = await freePort();
    const cfg = writeConfig(dir, { port: path.join(dir, 'tty'), wiringMaxAmpsAllTWCs: 32, wiringMaxAmpsPerTWC: 32 },
      { http: { listen: [`0.0.0.0:${port}`], passwordHash: hash, token: TOKEN, authRead: true } });
    gw = await start(TWCGW, ['-c', cfg]);
    await waitFor('the server', async () => (await req(port, 'GET', '/').catch(() => null))?.status === 200, 10000);

    const answers = [];
    const keep = (r) => { answers.push(r.text + JSON.stringify([...r.headers])); return r; };
    let r = keep(await req(port, 'GET', '/api/v1/status'));
    assert.equal(r.status, 401);
    r = keep(await req(port, 'GET', '/metrics'));
    assert.equal(r.status, 401);
    r = keep(await req(port, 'GET', '/api/v1/status', { headers: { authorization: `Bearer ${TOKEN}` } }));
    assert.equal(r.status, 200);
    r = keep(await req(port, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }));
    assert.equal(r.status, 200);
    r = keep(await req(port, 'GET', '/api/v1/status', { headers: { authorization: 'Bearer wrong-token-000000000' } }));
    assert.equal(r.status, 401);
    const session = keep(await req(port, 'GET', '/api/v1/session')).json;
    assert.equal(session.authRequired.control, true);
    assert.equal(session.authRequired.read, true);
    assert.equal(session.authenticated, false);
    const csrf = { 'x-csrf-token': session.csrf };
    r = keep(await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off' }, headers: csrf }));
    assert.equal(r.status, 401, 'the CSRF token alone is not a credential');
    r = keep(await req(port, 'POST', '/api/v1/login', { body: { password: 'not the password' }, headers: csrf }));
    assert.equal(r.status, 401);
    r = keep(await req(port, 'POST', '/api/v1/login', { body: { password: PASSWORD }, headers: csrf }));
    assert.equal(r.status, 200);
    const cookie = r.headers.get('set-cookie');
    assert.match(cookie, /^twcgw_session=[0-9a-f]{64}; .*HttpOnly.*SameSite=Strict/);
    const sid = cookie.split(';')[0];
    r = keep(await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off' }, headers: { cookie: sid } }));
    assert.equal(r.status, 403, 'a session without the CSRF token cannot change anything');
    r = keep(await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'off' }, headers: { cookie: sid, ...csrf } }));
    assert.equal(r.status, 200, r.text);
    r = keep(await req(port, 'PUT', '/api/v1/settings/policy', { body: { mode: 'charge-now' }, headers: { authorization: `Bearer ${TOKEN}` } }));
    assert.equal(r.status, 200, 'a bearer token needs no CSRF token');
    assert.equal(r.json.policy.source, 'api', 'a change with a bearer token is the REST API\'s');
    r = keep(await req(port, 'POST', '/api/v1/logout', { headers: { cookie: sid, ...csrf } }));
    assert.equal(r.status, 200);
    r = keep(await req(port, 'GET', '/api/v1/status', { headers: { cookie: sid } }));
    assert.equal(r.status, 401, 'the session ended');
    for (const a of answers) {
      assert.ok(!a.includes(TOKEN), 'the token never comes back');
      assert.ok(!a.includes(PASSWORD), 'the password never comes back');
      assert.ok(!a.includes(hash.split('$')[3]), 'the hash never comes back');
    }
    assert.ok(!gw.stdout.includes(TOKEN) && !gw.stderr.includes(TOKEN), 'the token is not logged');
  } finally {
    await stop(gw);
    await stop(sim);
    cleanup(dir);
  }
});

// One GET over HTTPS, trusting only @ca.
function httpsGet(port, p, ca) {
  return new Promise((resolve, reject) => {
    const rq = https.get({ host: '127.0.0.1', port, path: p, ca, servername: 'localhost' }, (res) => {
      const tls = res.socket.getProtocol();
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, tls }));
    });
    rq.on('error', reject);
  });
}

test('HTTPS with http.certFile and http.keyFile', { timeout: 60000 }, async () => {
  const dir = tempDir();
  let sim, gw;
  try {
    const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
    const ossl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2',
      '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(ossl.status, 0, ossl.stderr);
    sim = await startSim(dir);
    const port = await freePort();
    const cfg = writeConfig(dir, { port: path.join(dir, 'tty'), wiringMaxAmpsAllTWCs: 32, wiringMaxAmpsPerTWC: 32 },
      { http: { listen: `127.0.0.1:${port}`, certFile: cert, keyFile: key } });
    gw = await start(TWCGW, ['-c', cfg]);
    const ca = readFileSync(cert);
    const r = await waitFor('the HTTPS server', () => httpsGet(port, '/api/v1/status', ca).catch(() => null), 10000);
    assert.equal(r.status, 200);
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(r.tls), r.tls);
    assert.match(r.headers['strict-transport-security'], /max-age=\d+/);
    assert.equal(JSON.parse(r.body).bus.wiringMaxAmpsAllTWCs, 32);
    const plain = await req(port, 'GET', '/api/v1/status').catch((e) => e);
    assert.ok(plain instanceof Error || plain.status >= 400, 'plain HTTP on the HTTPS port gets no status');
  } finally {
    await stop(gw);
    await stop(sim);
    cleanup(dir);
  }
});

test('http config errors name the key; --hash-password refuses a short password', () => {
  const dir = tempDir();
  try {
    const cases = [
      [{ listen: '0.0.0.0:8080' }, /http\.listen: an address beyond loopback needs http\.passwordHash or http\.token/],
      [{ listen: 'localhost:8080' }, /http\.listen: must be "address:port"/],
      [{ listen: ['127.0.0.1:8080', 'x'] }, /http\.listen\[1\]: must be "address:port"/],
      [{ passwordHash: 'secret-in-clear' }, /http\.passwordHash:/],
      [{ certFile: '/nonexistent.pem' }, /http\.keyFile: required with http\.certFile/],
      [{ token: 'short' }, /http\.token: must be at least 16 characters/],
      [{ colour: 1 }, /http\.colour/],
    ];
    for (const [http, re] of cases) {
      const cfg = writeConfig(dir, { port: '/dev/null' }, { http });
      const r = run(TWCGW, ['-n', '-c', cfg]);
      assert.equal(r.status, 2, `${JSON.stringify(http)}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!r.stderr.includes('secret-in-clear'), 'a secret is not echoed');
    }
    const ok = writeConfig(dir, { port: '/dev/null' }, { http: { listen: ['127.0.0.1:8080', '[::1]:8080'] } });
    const r = run(TWCGW, ['-n', '-c', ok]);
    assert.equal(r.status, 0, r.stderr);
    const short = spawnSync(TWCGW, ['--hash-password'], { input: 'short\n', encoding: 'utf8' });
    assert.equal(short.status, 2);
    assert.match(short.stderr, /at least 8/);
  } finally {
    cleanup(dir);
  }
});
