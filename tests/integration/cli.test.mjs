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
