// twcgw on MQTT against a real mosquitto broker: retained status per Wall Connector and for the gateway,
// Home Assistant discovery (a device per Wall Connector with sensors and a maximum-current number, the
// gateway with a mode select), commands on <prefix>/set/... answered on <prefix>/result and kept across
// a restart (dataDir/settings.json, never the config file), and the last will "offline" on SIGKILL.
// mosquitto_sub / mosquitto_pub (Debian's mosquitto-clients) stand in for Home Assistant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TWCGW, TWCSIM, start, stop, tempDir, cleanup, waitFor, writeConfig, status } from './lib.mjs';
import { startMosquitto, haveMosquitto, freePort, MOSQUITTO } from './meter_mocks.mjs';

const haveClients = spawnSync('mosquitto_sub', ['--help']).error === undefined;

function subscribe(port, topics) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-v', '-q', '1'];
  for (const t of topics) args.push('-t', t);
  const child = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const sub = { child, lines: [] };
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const sp = line.indexOf(' ');
      sub.lines.push({ topic: line.slice(0, sp), payload: line.slice(sp + 1) });
    }
  });
  // The last message seen on a topic (JSON parsed when it is JSON).
  sub.last = (topic) => {
    for (let i = sub.lines.length - 1; i >= 0; i--) {
      if (sub.lines[i].topic !== topic) continue;
      try { return JSON.parse(sub.lines[i].payload); } catch { return sub.lines[i].payload; }
    }
    return undefined;
  };
  return sub;
}

function publish(port, topic, message) {
  const r = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-m', message]);
  assert.equal(r.status, 0, String(r.stderr));
}

test('MQTT: status, Home Assistant discovery, commands that survive a restart, last will',
  { skip: (!haveMosquitto() || !haveClients) && 'mosquitto or mosquitto-clients is not installed', timeout: 120000 },
  async () => {
    const dir = tempDir();
    let broker, sim, gw, sub;
    try {
      broker = await startMosquitto(dir);
      const ctl = path.join(dir, 'sim.sock');
      sim = await start(TWCSIM, ['--pty', path.join(dir, 'tty'), '--control', ctl, '--seed', '7', '--slaves', '2',
        '--plug', '0', '--ids', '1A2B,3C4D'], { readyRe: /^ready pty (\S+)/m });
      const cfg = writeConfig(dir, { port: path.join(dir, 'tty'), wiringMaxAmpsAllTWCs: 32, wiringMaxAmpsPerTWC: 32 },
        { mqtt: { host: '127.0.0.1', port: broker.port, prefix: 'garage/twcgw' } });
      const original = readFileSync(cfg, 'utf8');
      sub = subscribe(broker.port, ['garage/twcgw/#', 'homeassistant/#']);
      gw = await start(TWCGW, ['-c', cfg]);

      // Status, retained and live.
      await waitFor('online', () => sub.last('garage/twcgw/status') === 'online', 10000);
      const charging = await waitFor('1A2B charging', () => {
        const s = sub.last('garage/twcgw/twc/1A2B');
        return s?.state === 'charging' && s.offeredAmps >= 6 ? s : null;
      }, 30000);
      assert.equal(charging.id, '1A2B');
      assert.equal(typeof charging.measuredAmps, 'number');
      assert.ok(charging.powerW > 0);
      assert.equal(charging.maxAmps, null);
      await waitFor('3C4D idle', () => sub.last('garage/twcgw/twc/3C4D')?.state === 'idle', 15000);
      const gwState = await waitFor('gateway', () => {
        const g = sub.last('garage/twcgw/gateway');
        return g?.twcs === 2 ? g : null;
      }, 15000);
      assert.equal(gwState.wiringMaxAmpsAllTWCs, 32);
      assert.equal(gwState.policy.mode, 'charge-now');
      assert.equal(gwState.policy.source, 'config');
      assert.equal(gwState.ocpp, 'off');

      // Discovery: one device per Wall Connector and one for the gateway, all on the status topic.
      const sel = sub.last('homeassistant/select/garage_twcgw_mode/config');
      assert.deepEqual(sel.options, ['off', 'charge-now', 'scheduled', 'track-green']);
      assert.equal(sel.command_topic, 'garage/twcgw/set/mode');
      assert.equal(sel.availability_topic, 'garage/twcgw/status');
      const cur = sub.last('homeassistant/sensor/garage_twcgw_1A2B_measured/config');
      assert.equal(cur.device_class, 'current');
      assert.equal(cur.unit_of_measurement, 'A');
      assert.equal(cur.state_topic, 'garage/twcgw/twc/1A2B');
      assert.equal(cur.device.via_device, 'twcgw_garage_twcgw');
      const pow = sub.last('homeassistant/sensor/garage_twcgw_3C4D_power/config');
      assert.equal(pow.device_class, 'power');
      const num = sub.last('homeassistant/number/garage_twcgw_1A2B_max/config');
      assert.equal(num.command_topic, 'garage/twcgw/set/twc/1A2B/maxAmps');
      assert.equal(num.max, 32);

      // A maximum for one Wall Connector: applied on the bus, answered, kept.
      publish(broker.port, 'garage/twcgw/set/twc/1A2B/maxAmps', '10');
      await waitFor('result ok', () => sub.lines.some((l) => l.topic === 'garage/twcgw/result'
        && JSON.parse(l.payload).topic === 'garage/twcgw/set/twc/1A2B/maxAmps' && JSON.parse(l.payload).ok), 5000);
      await waitFor('the slave holds 10 A', async () => {
        const st = await status(ctl);
        const s = st.slaves.find((x) => x.id.toUpperCase() === '1A2B');
        return s && s.heldAmps === 10 && sub.last('garage/twcgw/twc/1A2B')?.maxAmps === 10;
      }, 15000);

      // A bad command: refused, the reason names the key, nothing changes.
      publish(broker.port, 'garage/twcgw/set/mode', 'turbo');
      const bad = await waitFor('result refused', () => {
        const l = sub.lines.find((x) => x.topic === 'garage/twcgw/result' && JSON.parse(x.payload).topic === 'garage/twcgw/set/mode');
        return l ? JSON.parse(l.payload) : null;
      }, 5000);
      assert.equal(bad.ok, false);
      assert.match(bad.error, /policy\.mode/);
      publish(broker.port, 'garage/twcgw/set/twc/1A2B/maxAmps', '99');
      await waitFor('maxAmps 99 refused', () => sub.lines.some((l) => l.topic === 'garage/twcgw/result'
        && /wiringMaxAmpsPerTWC/.test(JSON.parse(l.payload).error || '')), 5000);

      // The mode: off, from the settings; the car's current goes.
      publish(broker.port, 'garage/twcgw/set/mode', 'off');
      await waitFor('mode off', () => {
        const g = sub.last('garage/twcgw/gateway');
        return g?.policy.mode === 'off' && g.policy.source === 'mqtt' && g.policy.amps === 0;
      }, 10000);
      assert.equal(readFileSync(cfg, 'utf8'), original, 'the config file was rewritten');
      const settings = JSON.parse(readFileSync(path.join(dir, 'data', 'settings.json'), 'utf8'));
      assert.equal(settings.policy.mode, 'off');
      assert.equal(settings.maxAmps['1A2B'], 10);

      // A clean stop says offline itself; the settings hold after a restart.
      assert.equal((await stop(gw)).code, 0);
      await waitFor('offline', () => sub.last('garage/twcgw/status') === 'offline', 5000);
      gw = await start(TWCGW, ['-c', cfg]);
      await waitFor('online again', () => sub.last('garage/twcgw/status') === 'online', 10000);
      await waitFor('settings kept', () => {
        const g = sub.last('garage/twcgw/gateway');
        const t = sub.last('garage/twcgw/twc/1A2B');
        return g?.policy.mode === 'off' && g.policy.source === 'mqtt' && t?.maxAmps === 10;
      }, 15000);
      publish(broker.port, 'garage/twcgw/set/mode', 'config');
      await waitFor('the config policy again', () => sub.last('garage/twcgw/gateway')?.policy.source === 'config', 10000);

      // SIGKILL: the broker publishes the last will.
      const n = sub.lines.length;
      gw.child.kill('SIGKILL');
      await waitFor('last will', () => sub.lines.slice(n).some((l) => l.topic === 'garage/twcgw/status' && l.payload === 'offline'), 10000);
    } finally {
      if (gw && !gw.exited) gw.child.kill('SIGKILL');
      if (sub) sub.child.kill();
      await stop(sim);
      await stop(broker);
      cleanup(dir);
    }
  });

// A CA and a broker certificate for DNS:localhost, made here with the openssl CLI.
function makeCerts(dir) {
  const f = (n) => path.join(dir, n);
  const run = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'),
    '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=twcgw test CA');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('broker.key'),
    '-out', f('broker.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('ext'), 'subjectAltName=DNS:localhost\n');
  run('x509', '-req', '-in', f('broker.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('broker.crt'), '-days', '2', '-extfile', f('ext'));
  return { ca: f('ca.crt'), cert: f('broker.crt'), key: f('broker.key') };
}

// One broker with a plain listener (for the test's own client) and a TLS one (for twcgw).
async function startTlsBroker(dir, certs) {
  const plain = await freePort();
  const tls = await freePort();
  const conf = path.join(dir, 'tls.conf');
  const log = path.join(dir, 'tls.log');
  writeFileSync(conf, [
    `listener ${plain} 127.0.0.1`, 'allow_anonymous true',
    `listener ${tls} 127.0.0.1`, `cafile ${certs.ca}`, `certfile ${certs.cert}`, `keyfile ${certs.key}`,
    'allow_anonymous true', 'persistence false', `log_dest file ${log}`, 'log_type all',
    ...(process.getuid?.() === 0 ? ['user root'] : []), '',
  ].join('\n'));
  const broker = await start(MOSQUITTO, ['-c', conf]);
  await waitFor('the TLS broker', async () => {
    const a = await new Promise((r) => { const c = net.connect(tls, '127.0.0.1', () => { c.end(); r(true); }); c.on('error', () => r(false)); });
    return a;
  }, 10000);
  broker.plain = plain;
  broker.tls = tls;
  broker.log = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  return broker;
}

test('MQTT over TLS: the broker certificate is checked against the CA and the host name before anything is sent',
  { skip: (!haveMosquitto() || !haveClients) && 'mosquitto or mosquitto-clients is not installed', timeout: 60000 },
  async () => {
    const dir = tempDir();
    let broker, sim, gw, sub;
    try {
      const certs = makeCerts(dir);
      broker = await startTlsBroker(dir, certs);
      sim = await start(TWCSIM, ['--pty', path.join(dir, 'tty'), '--control', path.join(dir, 'sim.sock'), '--seed', '7',
        '--slaves', '1'], { readyRe: /^ready pty (\S+)/m });
      sub = subscribe(broker.plain, ['t/#']);
      // The right name: connected, online.
      let cfg = writeConfig(dir, { port: path.join(dir, 'tty') },
        { mqtt: { host: 'localhost', port: broker.tls, caFile: certs.ca, prefix: 't/ok', discovery: false } });
      gw = await start(TWCGW, ['-c', cfg]);
      await waitFor('online over TLS', () => sub.last('t/ok/status') === 'online', 15000);
      await stop(gw);
      // The address instead of the name the certificate carries: refused in the handshake, no CONNECT.
      cfg = writeConfig(dir, { port: path.join(dir, 'tty') },
        { mqtt: { host: '127.0.0.1', port: broker.tls, caFile: certs.ca, prefix: 't/bad', discovery: false } });
      gw = await start(TWCGW, ['-c', cfg]);
      await waitFor('a TLS error logged', () => /mqtt: cannot connect to 127\.0\.0\.1:\d+ \(TLS: .*certificate verify failed/.test(gw.stderr), 15000)
        .catch((e) => { throw new Error(`${e.message}: ${gw.stderr}`); });
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(sub.last('t/bad/status'), undefined);
      assert.doesNotMatch(broker.log(), /as twcgw-t_bad/);
    } finally {
      if (gw && !gw.exited) gw.child.kill('SIGKILL');
      if (sub) sub.child.kill();
      await stop(sim);
      await stop(broker);
      cleanup(dir);
    }
  });
