// A depot in one process (issue 19): one twcgw with chargePoints DEPOT-1 and DEPOT-2, each its own
// twc-sim bus over TCP, both talking OCPP 1.6J to one small central system on loopback (node:http
// upgrade and RFC 6455 framing, no npm). It checks that the two charge points are independent: each
// its own websocket, connectors numbered from 1, its own transactions and limits (wiring and a
// central system's profile), one status page listing both; that a bus unplugged (its twc-sim killed)
// leaves the other bus and its link alone; that SIGHUP removes (its link closed with 1001, going away) and adds an entry without
// touching the other; and that site.maxAmps caps the sum of the current held over both buses at every sample, while
// one bus lowers and the other raises and after a bus is lost while its TWCs may still hold current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { TWCGW, TWCSIM, start, stop, control, run, tempDir, cleanup, waitFor } from './lib.mjs';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(op, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | op, len]) : Buffer.from([0x80 | op, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

// A permissive central system that records each charge point's CALLs and can send its own CALLs.
function csms() {
  const server = http.createServer();
  const s = { server, cps: {} };
  let txn = 500;
  server.on('upgrade', (req, socket) => {
    const id = decodeURIComponent(req.url.split('/').pop());
    const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + WS_GUID).digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n`);
    const cp = { id, socket, calls: [], results: new Map(), closed: false, next: 1 };
    cp.send = (m) => socket.write(frame(1, Buffer.from(JSON.stringify(m))));
    // A CALL from the central system; resolves with the CALLRESULT payload.
    cp.call = (action, payload) => new Promise((resolve, reject) => {
      const mid = `cs-${cp.next++}`;
      const t = setTimeout(() => { cp.results.delete(mid); reject(new Error(`${id}: no answer to ${action}`)); }, 10000);
      cp.results.set(mid, (r) => { clearTimeout(t); resolve(r); });
      cp.send([2, mid, action, payload]);
    });
    (s.cps[id] ||= []).push(cp);
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const op = buf[0] & 0x0f;
        const code = buf[1] & 0x7f; // 126 and 127 announce a longer length (a 16-bit 127 is a length)
        let len = code, off = 2;
        if (code === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
        else if (code === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        const masked = (buf[1] & 0x80) ? 4 : 0;
        if (buf.length < off + masked + len) break;
        const p = Buffer.from(buf.subarray(off + masked, off + masked + len));
        if (masked) for (let i = 0; i < len; i++) p[i] ^= buf[off + (i & 3)];
        buf = buf.subarray(off + masked + len);
        if (op === 9) socket.write(frame(10, p));
        if (op === 8) {
          // The code the charge point gave (1005: none), echoed back as RFC 6455 asks.
          cp.closeCode = p.length >= 2 ? p.readUInt16BE(0) : 1005;
          socket.write(frame(8, p.subarray(0, 2)));
          socket.end();
        }
        if (op !== 1) continue;
        const m = JSON.parse(p.toString());
        if (m[0] === 3 && cp.results.has(m[1])) { cp.results.get(m[1])(m[2]); cp.results.delete(m[1]); continue; }
        if (m[0] === 4 && cp.results.has(m[1])) { cp.results.get(m[1])({ callError: m[2], description: m[3] }); cp.results.delete(m[1]); continue; }
        if (m[0] !== 2) continue;
        cp.calls.push({ action: m[2], payload: m[3], at: Date.now() });
        const now = new Date().toISOString();
        const a = m[2];
        const out = a === 'BootNotification' ? { status: 'Accepted', currentTime: now, interval: 300 }
          : a === 'Heartbeat' ? { currentTime: now }
            : a === 'Authorize' ? { idTagInfo: { status: 'Accepted' } }
              : a === 'StartTransaction' ? { transactionId: ++txn, idTagInfo: { status: 'Accepted' } }
                : a === 'StopTransaction' ? { idTagInfo: { status: 'Accepted' } } : {};
        cp.send([3, m[1], out]);
      }
    });
    // node's http server keeps upgraded sockets half-open: a peer's FIN must be answered, as any
    // server's TCP stack does, or 'close' never comes.
    socket.on('end', () => socket.end());
    socket.on('close', () => { cp.closed = true; });
    socket.on('error', () => {});
  });
  s.listen = () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  s.close = () => new Promise((resolve) => {
    for (const list of Object.values(s.cps)) for (const c of list) c.socket.destroy();
    server.close(() => resolve());
  });
  s.cp = (id) => (s.cps[id] || []).at(-1);
  s.calls = (id, action) => (s.cps[id] || []).flatMap((c) => c.calls).filter((c) => c.action === action);
  return s;
}

async function sim(dir, name, seed, ids) {
  const ctl = path.join(dir, `${name}.sock`);
  const p = await start(TWCSIM, ['--tcp', '0', '--control', ctl, '--seed', String(seed), '--slaves', '2', '--ids', ids],
    { readyRe: /^ready tcp (\S+)/m });
  return { proc: p, ctl, port: `tcp://${p.ready[1]}` };
}

const simStatus = (s) => control(s.ctl, 'status');
const told = (st) => st.slaves.reduce((a, x) => a + x.toldAmps, 0);

async function getJson(port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve(JSON.parse(b)));
    }).on('error', reject);
  });
}

function depotConfig(dir, csPort, a, b, extra = {}) {
  const file = path.join(dir, 'twcgw.json');
  writeFileSync(file, JSON.stringify({
    dataDir: path.join(dir, 'data'),
    log: { statusInterval: 0 },
    http: { listen: '127.0.0.1:0' },
    ocpp: { url: `ws://127.0.0.1:${csPort}/ocpp`, idTag: { source: 'fixed', fixed: 'DEPOT' } },
    chargePoints: [
      { chargeBoxId: 'DEPOT-1', twc: { port: a.port, wiringMaxAmpsAllTWCs: 20, wiringMaxAmpsPerTWC: 16 } },
      { chargeBoxId: 'DEPOT-2', twc: { port: b.port, wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32 } },
    ],
    ...extra,
  }, null, 2));
  return file;
}

test('two buses as two charge points to one central system: independent, and one bus lost alone', async () => {
  const dir = tempDir();
  const cs = csms();
  let a, b, gw;
  try {
    const csPort = await cs.listen();
    a = await sim(dir, 'a', 11, 'A001,A002');
    b = await sim(dir, 'b', 12, 'B001,B002');
    const cfg = depotConfig(dir, csPort, a, b);
    const check = run(TWCGW, ['-n', '-c', cfg]);
    assert.equal(check.status, 0, check.stderr);
    gw = await start(TWCGW, ['-c', cfg]);
    const httpPort = Number((await waitFor('the status page', () => gw.stderr.match(/status page on \S+ \(port (\d+)\)/), 10000))[1]);

    // One websocket per charge point, each named by its chargeBoxId, each booted.
    await waitFor('both charge points booted', () => cs.calls('DEPOT-1', 'BootNotification').length
      && cs.calls('DEPOT-2', 'BootNotification').length, 15000);
    // Connectors from 1 within each charge point, one per TWC on its own bus.
    await waitFor('two connectors each', () => ['DEPOT-1', 'DEPOT-2'].every((id) =>
      new Set(cs.calls(id, 'StatusNotification').map((c) => c.payload.connectorId).filter((n) => n > 0)).size === 2), 20000);
    for (const id of ['DEPOT-1', 'DEPOT-2']) {
      const conns = new Set(cs.calls(id, 'StatusNotification').map((c) => c.payload.connectorId));
      assert.deepEqual([...conns].filter((n) => n > 0).sort(), [1, 2], `${id}: ${[...conns]}`);
    }

    // A car on bus A: a transaction on DEPOT-1 only.
    assert.equal((await control(a.ctl, 'plug 0')).ok, true);
    await waitFor('a transaction on DEPOT-1', () => cs.calls('DEPOT-1', 'StartTransaction').length === 1, 20000);
    assert.equal(cs.calls('DEPOT-2', 'StartTransaction').length, 0);
    // And one on bus B: its own transaction, its own connector numbering.
    assert.equal((await control(b.ctl, 'plug 1')).ok, true);
    await waitFor('a transaction on DEPOT-2', () => cs.calls('DEPOT-2', 'StartTransaction').length === 1, 20000);
    assert.equal(cs.calls('DEPOT-1', 'StartTransaction').length, 1);
    assert.ok([1, 2].includes(cs.calls('DEPOT-2', 'StartTransaction')[0].payload.connectorId));

    // Limits are per bus: bus A's wiring is 20 A, bus B's 40 A; each car gets what its bus allows.
    await waitFor('both cars offered current', async () => told(await simStatus(a)) > 0 && told(await simStatus(b)) > 0, 20000);
    assert.ok(told(await simStatus(a)) <= 20);
    await waitFor('car B offered more than bus A could give', async () => told(await simStatus(b)) > 20, 20000);

    // A central system's limit on DEPOT-1 lowers bus A only.
    const r = await cs.cp('DEPOT-1').call('SetChargingProfile', {
      connectorId: 0,
      csChargingProfiles: {
        chargingProfileId: 7, stackLevel: 1, chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Absolute',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] },
      },
    });
    assert.equal(r.status, 'Accepted');
    await waitFor('bus A within 8 A', async () => { const t = told(await simStatus(a)); return t > 0 && t <= 8; }, 20000);
    assert.ok(told(await simStatus(b)) > 20, 'bus B kept its current');

    // The status lists both charge points; the top-level fields stay the first one's.
    const st = await getJson(httpPort, '/api/v1/status');
    assert.equal(st.chargePoint, 'DEPOT-1');
    assert.deepEqual(st.chargePoints.map((c) => c.chargePoint), ['DEPOT-1', 'DEPOT-2']);
    assert.equal(st.chargePoints[1].bus.wiringMaxAmpsAllTWCs, 40);
    assert.equal(st.chargePoints[1].connectors.length, 2);

    // Bus A unplugged: DEPOT-2's link stays up and its slaves keep hearing the master.
    const linksBefore = cs.cps['DEPOT-2'].length;
    await stop(a.proc, 'SIGKILL');
    const hbBefore = (await simStatus(b)).slaves.map((s) => s.heartbeats);
    await waitFor('bus A seen down', async () => (await getJson(httpPort, '/api/v1/status')).chargePoints[0].bus.linkUp === false, 20000);
    await waitFor('bus B still served', async () => (await simStatus(b)).slaves.every((s, i) => s.heartbeats > hbBefore[i] + 3), 20000);
    const after = await getJson(httpPort, '/api/v1/status');
    assert.equal(after.chargePoints[1].bus.linkUp, true);
    assert.equal(cs.cps['DEPOT-2'].length, linksBefore, 'DEPOT-2 did not reconnect');
    assert.equal(cs.cp('DEPOT-2').closed, false);
    assert.equal(cs.calls('DEPOT-2', 'StopTransaction').length, 0, 'the car on bus B kept its transaction');
    assert.ok(told(await simStatus(b)) > 20);
    assert.equal(gw.exited, null);

    const ex = await stop(gw);
    assert.equal(ex.code, 0, gw.stderr);
  } finally {
    await stop(gw);
    await stop(a?.proc);
    await stop(b?.proc);
    await cs.close();
    cleanup(dir);
  }
});

test('the config names the entry at fault', async () => {
  const dir = tempDir();
  try {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({
      dataDir: path.join(dir, 'data'),
      chargePoints: [
        { chargeBoxId: 'DEPOT-1', twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 20, wiringMaxAmpsPerTWC: 16 } },
        { chargeBoxId: 'DEPOT-2', twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 20, wiringMaxAmpsPerTWC: 16 } },
      ],
    }));
    const r = run(TWCGW, ['-n', '-c', bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^config: chargePoints\[1\]\.twc\.port: "\/dev\/ttyUSB0" is already chargePoints\[0\]'s/m);
  } finally {
    cleanup(dir);
  }
});

// The removed entry's link closes at once, with a close frame saying 1001 (going away), and its objects
// are freed (the ASan build fails the exit code on a leak); the other keeps its one connection.
test('SIGHUP removes and adds a charge point without disturbing the other', async () => {
  const dir = tempDir();
  const cs = csms();
  let a, b, gw;
  try {
    const csPort = await cs.listen();
    a = await sim(dir, 'a', 31, 'A001,A002');
    b = await sim(dir, 'b', 32, 'B001,B002');
    const cfg = depotConfig(dir, csPort, a, b);
    gw = await start(TWCGW, ['-c', cfg]);
    await waitFor('both booted', () => cs.calls('DEPOT-1', 'BootNotification').length && cs.calls('DEPOT-2', 'BootNotification').length, 15000);
    const { readFileSync } = await import('node:fs');
    const full = JSON.parse(readFileSync(cfg, 'utf8'));
    writeFileSync(cfg, JSON.stringify({ ...full, chargePoints: [full.chargePoints[0]] }));
    gw.child.kill('SIGHUP');
    const hupAt = Date.now();
    await waitFor('DEPOT-2 closed', () => cs.cp('DEPOT-2').closed, 15000, 10);
    assert.ok(Date.now() - hupAt < 3000, `DEPOT-2 closed after ${Date.now() - hupAt} ms`);
    assert.equal(cs.cp('DEPOT-2').closeCode, 1001, 'DEPOT-2 dropped without a close frame saying 1001 (going away)');
    assert.match(gw.stderr, /charge point DEPOT-2 removed/);
    // Bus B's port is closed too: its slaves stop hearing a master.
    const hb = (await simStatus(b)).slaves.map((s) => s.heartbeats);
    const hbA = (await simStatus(a)).slaves.map((s) => s.heartbeats);
    await waitFor('bus A still served', async () => (await simStatus(a)).slaves.every((s, i) => s.heartbeats > hbA[i] + 2), 20000);
    assert.ok((await simStatus(b)).slaves.every((s, i) => s.heartbeats <= hb[i] + 1), 'bus B still hears a master');
    // Back, with a site limit that starts at this reload: the running bus joins it, the new one too.
    writeFileSync(cfg, JSON.stringify({ ...full, site: { maxAmps: 40 } }));
    gw.child.kill('SIGHUP');
    await waitFor('DEPOT-2 back', () => cs.cps['DEPOT-2'].length === 2 && cs.calls('DEPOT-2', 'BootNotification').length === 2, 15000);
    assert.match(gw.stderr, /site: bus \S+ shares 40 A with 0 other buses/);
    assert.match(gw.stderr, /site: bus \S+ shares 40 A with 1 other bus;/);
    // And the site ends at the next one.
    writeFileSync(cfg, JSON.stringify(full));
    gw.child.kill('SIGHUP');
    await waitFor('the site ended', () => /no site\.maxAmps any more/.test(gw.stderr), 5000);
    // DEPOT-1 kept its one connection and booted once.
    assert.equal(cs.cps['DEPOT-1'].length, 1);
    assert.equal(cs.cp('DEPOT-1').closed, false);
    assert.equal(cs.calls('DEPOT-1', 'BootNotification').length, 1);
    const ex = await stop(gw);
    assert.equal(ex.code, 0, gw.stderr);
  } finally {
    await stop(gw);
    await stop(a?.proc);
    await stop(b?.proc);
    await cs.close();
    cleanup(dir);
  }
});

// site.maxAmps 30 over bus A (20 A, 16 A per TWC) and bus B (40 A, 32 A per TWC), two cars on each:
// the sum the four TWCs hold (twc-sim's own view: what each may let its car draw, a lowering counted
// until it is done) is sampled every 50 ms all along and never exceeds 30 A; a profile on DEPOT-2
// lowers bus B and bus A is raised into the room given up; the profile cleared, B comes back up while
// A comes down; bus A lost (its twc-sim killed) while its TWCs held current: that room stays reserved,
// so B is not raised into it.
test('site.maxAmps caps the sum held over both buses', async () => {
  const dir = tempDir();
  const cs = csms();
  const SITE = 30;
  let a, b, gw, sampler, max = 0, samples = 0, lastA = 0, aDead = false, stopSampling = false;
  try {
    const csPort = await cs.listen();
    a = await sim(dir, 'a', 21, 'A001,A002');
    b = await sim(dir, 'b', 22, 'B001,B002');
    gw = await start(TWCGW, ['-c', depotConfig(dir, csPort, a, b, { site: { maxAmps: SITE } })]);
    const held = async (s) => (await simStatus(s)).stats.heldTotal;
    const sample = async () => {
      const ha = aDead ? lastA : await held(a);
      const hb = await held(b);
      if (!aDead) lastA = ha;
      max = Math.max(max, ha + hb);
      samples++;
      return { ha, hb };
    };
    sampler = (async () => {
      while (!stopSampling) {
        await sample();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await waitFor('both charge points booted', () => cs.calls('DEPOT-1', 'BootNotification').length
      && cs.calls('DEPOT-2', 'BootNotification').length, 15000);
    await waitFor('both buses with two slaves', async () => (await simStatus(a)).slaves.every((x) => x.heardMaster)
      && (await simStatus(b)).slaves.every((x) => x.heardMaster), 20000);
    for (const s of [a, b]) for (const n of [0, 1]) assert.equal((await control(s.ctl, `plug ${n}`)).ok, true);
    await waitFor('all four cars offered current', async () => [...(await simStatus(a)).slaves, ...(await simStatus(b)).slaves]
      .every((x) => x.heldAmps > 0), 30000);
    // The site is used up, split evenly: bus B (wanting 40 A) is held back by the site, not its wiring.
    await waitFor('the site in use', async () => (await held(a)) + (await held(b)) === SITE, 20000);
    assert.ok(await held(b) <= SITE / 2, `bus B holds ${await held(b)} A`);

    // DEPOT-2 limited to 12 A (both cars at their 6 A minimum): bus B gives room up and bus A takes it.
    const before = await held(a);
    const r = await cs.cp('DEPOT-2').call('SetChargingProfile', {
      connectorId: 0,
      csChargingProfiles: {
        chargingProfileId: 9, stackLevel: 1, chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Absolute',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 12 }] },
      },
    });
    assert.equal(r.status, 'Accepted');
    await waitFor('bus B down to 12 A', async () => (await held(b)) <= 12, 20000);
    await waitFor('bus A raised into the room', async () => (await held(a)) > before, 20000);
    // The profile cleared: B raises and A lowers again.
    const c = await cs.cp('DEPOT-2').call('ClearChargingProfile', { id: 9 });
    assert.equal(c.status, 'Accepted');
    await waitFor('bus B raised again', async () => (await held(b)) >= SITE / 2, 30000);

    // Bus A lost while its TWCs hold current: its held current stays reserved, B is not raised into it.
    await waitFor('bus A holding current', async () => (await held(a)) > 0, 10000);
    const aHeld = await held(a);
    aDead = true;
    lastA = aHeld;
    await stop(a.proc, 'SIGKILL');
    const end = Date.now() + 8000;
    while (Date.now() < end) {
      const hb = await held(b);
      assert.ok(hb + aHeld <= SITE, `bus B holds ${hb} A beside the ${aHeld} A reserved for bus A`);
      await new Promise((res) => setTimeout(res, 50));
    }
    stopSampling = true;
    await sampler;
    assert.ok(samples > 100, `only ${samples} samples`);
    assert.ok(max <= SITE, `the sum reached ${max} A`);
    assert.match(gw.stderr, new RegExp(`site: bus \\S+ shares ${SITE} A`));
    assert.equal(gw.exited, null);
    const ex = await stop(gw);
    assert.equal(ex.code, 0, gw.stderr);
  } finally {
    stopSampling = true;
    await sampler?.catch(() => {});
    await stop(gw);
    await stop(a?.proc);
    await stop(b?.proc);
    await cs.close();
    cleanup(dir);
  }
});
