// The command line contract: --version, -h, -n config checks whose errors name the key, bad usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TWCGW, run, tempDir, cleanup, writeConfig } from './lib.mjs';

test('--version and -h', () => {
  const v = run(TWCGW, ['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^twcgw \d+\.\d+\.\d+/);
  const h = run(TWCGW, ['-h']);
  assert.equal(h.status, 0);
  for (const opt of ['-c', '-n', '--demo', '--version', '-v']) assert.ok(h.stdout.includes(opt), opt);
  const bad = run(TWCGW, ['--no-such-option']);
  assert.equal(bad.status, 2);
});

test('-n accepts a good config and names the key of a bad one', () => {
  const dir = tempDir();
  try {
    const good = writeConfig(dir, { port: '/dev/ttyUSB0' });
    const ok = run(TWCGW, ['-n', '-c', good]);
    assert.equal(ok.status, 0, ok.stderr);

    const cases = [
      [{ twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 120 } }, 'twc.wiringMaxAmpsPerTWC'],
      [{ twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 20, wiringMaxAmpsPerTWC: 32 } }, 'twc.wiringMaxAmpsPerTWC'],
      [{ twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32, minAmpsPerTWC: 2 } }, 'twc.minAmpsPerTWC'],
      [{ twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: '40', wiringMaxAmpsPerTWC: 32 } }, 'twc.wiringMaxAmpsAllTWCs'],
      [{ twc: { port: 'tcp://bridge:99999', wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32 } }, 'twc.port'],
      [{ twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32, masterId: 'zz' } }, 'twc.masterId'],
      [{ twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32, phases: 2 } }, 'twc.phases'],
      [{ twc: { port: '/dev/ttyUSB0', wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32, wiringMaxAmps: 3 } }, 'twc.wiringMaxAmps'],
      [{ twc: { wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32 } }, 'twc.port'],
    ];
    for (const [cfg, key] of cases) {
      const f = path.join(dir, 'bad.json');
      writeFileSync(f, JSON.stringify({ dataDir: path.join(dir, 'data'), ...cfg }));
      const r = run(TWCGW, ['-n', '-c', f]);
      assert.notEqual(r.status, 0, `${key} accepted`);
      assert.ok(r.stderr.includes(key), `error for ${key}: ${r.stderr}`);
    }
    const f = path.join(dir, 'syntax.json');
    writeFileSync(f, '{\n "dataDir": "/tmp",\n "twc": {,}\n}');
    const r = run(TWCGW, ['-n', '-c', f]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /syntax\.json:3/);
  } finally {
    cleanup(dir);
  }
});

test('--import-twcmanager: TWCManager configs become configs -n accepts; bad input exits 2', () => {
  const fixtures = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../fixtures/twcmanager');
  const dir = tempDir();
  try {
    const imported = {};
    for (const name of ['shipped-defaults', 'minimal-serial', 'tcp-fronius-schedule', 'odd-modules']) {
      const r = run(TWCGW, ['--import-twcmanager', path.join(fixtures, name, 'config.json')]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      const cfg = JSON.parse(r.stdout);
      assert.equal(cfg.dataDir, '/var/lib/twcgw');
      // One line per note, naming the TWCManager key; never a secret (the fixtures spell them "s3cret").
      for (const line of r.stderr.split('\n').filter(Boolean)) {
        assert.match(line, /^(not carried over|changed): [A-Za-z][\w.]*: \S/, `${name}: ${line}`);
      }
      assert.ok(!r.stderr.includes('s3cret'), r.stderr);
      imported[name] = { cfg, stderr: r.stderr };
      // -n creates dataDir: keep it in the test's directory, not /var/lib.
      const f = path.join(dir, `${name}.json`);
      writeFileSync(f, JSON.stringify({ ...cfg, dataDir: path.join(dir, `data-${name}`) }, null, 2));
      const ok = run(TWCGW, ['-n', '-c', f]);
      assert.equal(ok.status, 0, `${name}: ${ok.stderr}\n${r.stdout}`);
      assert.match(ok.stdout, /config OK/);
    }
    const tcp = imported['tcp-fronius-schedule'];
    assert.equal(tcp.cfg.twc.port, 'tcp://rs485-bridge.lan:8899');
    assert.deepEqual(tcp.cfg.ems, [{ type: 'fronius', url: 'http://192.168.1.50' }]);
    assert.equal(tcp.cfg.policy.mode, 'scheduled');
    assert.deepEqual(tcp.cfg.policy.schedule, [{ days: 'mon,tue,wed,thu,fri', start: '22:30', end: '06:00', amps: 24 }]);
    const odd = imported['odd-modules'];
    assert.equal(odd.cfg.twc.wiringMaxAmpsAllTWCs, 240);
    assert.match(odd.stderr, /^changed: config\.wiringMaxAmpsAllTWCs: /m);
    for (const key of ['sources.Growatt', 'sources.Powerwall2.password', 'control.OCPP', 'interface.RS485.port']) {
      assert.match(odd.stderr, new RegExp(`^not carried over: ${key.replace(/\./g, '\\.')}: `, 'm'), key);
    }
    assert.equal(odd.cfg.ems[0].token, 'eyJhbGciOiJIUzI1NiJ9.hass-s3cret-token.sig'); // secrets do reach stdout

    const bad = [
      ['notjson.json', '{ "config": { "wiringMaxAmpsAllTWCs": 32 "x": 1 } }', /notjson\.json:1:\d+: not JSON/],
      ['array.json', '[ { "config": {} } ]', /not a TWCManager config: the top level is an array/],
      ['noconfig.json', '{ "interface": {} }', /not a TWCManager config: no "config" section/],
      ['low.json', '{ "config": { "wiringMaxAmpsAllTWCs": 4 } }', /config\.wiringMaxAmpsAllTWCs: 4 A is below 5 A/],
      ['perzero.json', '{ "config": { "wiringMaxAmpsAllTWCs": 32, "wiringMaxAmpsPerTWC": 0 } }',
        /config\.wiringMaxAmpsPerTWC: 0 A is below 5 A/],
    ];
    for (const [file, text, re] of bad) {
      const f = path.join(dir, file);
      writeFileSync(f, text);
      const r = run(TWCGW, ['--import-twcmanager', f]);
      assert.equal(r.status, 2, `${file}: ${r.stdout}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, re);
    }
    const missing = run(TWCGW, ['--import-twcmanager', path.join(dir, 'nope.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.json: No such file/);
    const both = run(TWCGW, ['--import-twcmanager', path.join(fixtures, 'minimal-serial', 'config.json'), '-n']);
    assert.equal(both.status, 2);
  } finally {
    cleanup(dir);
  }
});
