// The built-in demo: the solar day (the default scenario) charges from the solar surplus with at most
// 12 start/stop cycles on its cloudy day and ends with a PASS verdict; the three-car share scenario still passes; scenario options
// that make no sense are usage errors. Sped up so the whole file takes about 20 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TWCGW } from './lib.mjs';

function demo(args, timeout = 45000) {
  return spawnSync(TWCGW, args, { encoding: 'utf8', timeout });
}

// " 12:15   5.63  0.39  5.24  27 A surplus   27 / 27 A    17.5 A   -1.22": time, policy amps, car amps.
const LINE = /^ (\d\d):(\d\d) +-?[\d.]+ +-?[\d.]+ +-?[\d.]+ +(\d+) A .*? (\d+\.\d) A +[+-]\d+\.\d\d/;

test('solar day: charges from the surplus, few cycles, PASS', () => {
  const r = demo(['--demo', '--demo-speed', '300']);
  const out = r.stdout;
  assert.equal(r.error, undefined, String(r.error));
  assert.match(out, /^verdict: PASS/m, out.slice(-1500));
  assert.equal(r.status, 0, out.slice(-1500));

  const rows = out.split('\n').map((l) => l.match(LINE)).filter(Boolean)
    .map((m) => ({ min: Number(m[1]) * 60 + Number(m[2]), policy: Number(m[3]), car: Number(m[4]) }));
  assert.ok(rows.length >= 60, `only ${rows.length} table lines`);
  assert.ok(rows.some((x) => x.min < 7 * 60 && x.policy === 0), 'no early-morning line with the policy at 0 A');
  assert.ok(rows.some((x) => x.min >= 11 * 60 && x.min <= 14 * 60 && x.car > 6),
    'no line around midday with the car drawing more than 6 A');

  const kwh = out.match(/^ +charged +([\d.]+) kWh/m);
  assert.ok(kwh, 'no "charged" line in the summary');
  assert.ok(Number(kwh[1]) > 5, `charged only ${kwh[1]} kWh`);
  const sw = out.match(/(\d+) starts, (\d+) stops/);
  assert.ok(sw, 'no starts/stops in the summary');
  assert.ok(Number(sw[1]) + Number(sw[2]) <= 24, `${sw[1]} starts + ${sw[2]} stops`);
});

test('share scenario: three cars share 40 A and pass', () => {
  const r = demo(['--demo', '--demo-scenario', 'share', '--demo-speed', '20']);
  assert.equal(r.error, undefined, String(r.error));
  assert.match(r.stdout, /^verdict: PASS - 3 slaves found; all three charged at once/m, r.stdout.slice(-1500));
  assert.equal(r.status, 0);
});

test('scenario usage errors exit 2', () => {
  const cases = [
    [['--demo', '--demo-scenario', 'foo'], /--demo-scenario/],
    [['--demo', '--demo-scenario', 'solar', '--demo-ocpp', 'ws://x'], /--demo-ocpp/],
    [['--demo-scenario', 'solar', '--demo-ocpp', 'ws://x'], /needs --demo/],
    [['--demo-scenario', 'share'], /--demo-scenario needs --demo/],
  ];
  for (const [args, re] of cases) {
    const r = demo(args, 10000);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
});
