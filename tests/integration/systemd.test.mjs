// twcgw under systemd, without systemd: a stand-in for NOTIFY_SOCKET (tests/tools/notify_listen)
// hears READY=1 with a STATUS= line once the bus is open, WATCHDOG=1 at half of WATCHDOG_USEC from the
// loop, RELOADING=1 and READY=1 around SIGHUP, STOPPING=1 at SIGTERM. The unit file passes
// `systemd-analyze verify`, and twcgw(8) lists every option `twcgw -h` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { TWCGW, TWCSIM, start, stop, tempDir, cleanup, waitFor, writeConfig, run } from './lib.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const LISTEN = process.env.NOTIFY_LISTEN_BIN || path.join(root, 'build/bin/notify_listen');

test('Type=notify: READY with STATUS, watchdog from the loop, RELOADING, STOPPING', async () => {
  const dir = tempDir();
  let sim, gw, listener;
  try {
    const sock = path.join(dir, 'notify.sock');
    listener = await start(LISTEN, [sock], { readyRe: /^listening$/m });
    const ctl = path.join(dir, 'sim.sock');
    sim = await start(TWCSIM, ['--pty', path.join(dir, 'tty'), '--control', ctl, '--seed', '7', '--slaves', '2'],
      { readyRe: /^ready pty (\S+)/m });
    const cfg = writeConfig(dir, { port: path.join(dir, 'tty') });
    const t0 = Date.now();
    const child = spawn(TWCGW, ['-c', cfg], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '1000000' },
    });
    gw = { child, stdout: '', stderr: '', exited: null };
    child.stderr.on('data', (d) => { gw.stderr += d; });
    gw.exitPromise = new Promise((r) => child.on('exit', (code, signal) => { gw.exited = { code, signal }; r(gw.exited); }));
    const lines = () => listener.stdout.split('\n').filter(Boolean);

    const ready = await waitFor('READY=1', () => lines().find((l) => l.startsWith('READY=1')), 5000);
    assert.match(ready, /^READY=1\|STATUS=\d+ TWC, \d+ of 40 A held; policy \d+ A/);
    assert.ok(Date.now() - t0 < 5000);
    // The watchdog at half of 1 s, from the loop: at least 4 in 2.5 s.
    const w0 = lines().filter((l) => l === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 2500));
    const fed = lines().filter((l) => l === 'WATCHDOG=1').length - w0;
    assert.ok(fed >= 4 && fed <= 6, `${fed} WATCHDOG=1 in 2.5 s`);
    assert.match(gw.stderr, /systemd watchdog: 1000 ms, fed every 500 ms/);
    // The status follows the bus: the two slaves show up within the 10 s refresh.
    await waitFor('STATUS with 2 TWC', () => lines().find((l) => /^STATUS=2 TWC/.test(l)), 15000);

    const n = lines().length;
    child.kill('SIGHUP');
    await waitFor('RELOADING then READY', () => {
      const after = lines().slice(n);
      const r = after.indexOf('RELOADING=1');
      return r >= 0 && after.slice(r + 1).some((l) => l.startsWith('READY=1|STATUS='));
    }, 5000);
    child.kill('SIGTERM');
    const ex = await gw.exitPromise;
    assert.equal(ex.code, 0, gw.stderr);
    // Sent before the exit; the listener may print it a moment after twcgw is gone.
    await waitFor('STOPPING=1', () => lines().includes('STOPPING=1'), 3000, 20);
  } finally {
    if (gw && !gw.exited) gw.child.kill('SIGKILL');
    await stop(sim);
    await stop(listener);
    cleanup(dir);
  }
});

test('without NOTIFY_SOCKET nothing is said and libsystemd is not loaded', async () => {
  const dir = tempDir();
  let sim, gw;
  try {
    const ctl = path.join(dir, 'sim.sock');
    sim = await start(TWCSIM, ['--pty', path.join(dir, 'tty'), '--control', ctl, '--seed', '7'],
      { readyRe: /^ready pty (\S+)/m });
    const cfg = writeConfig(dir, { port: path.join(dir, 'tty') });
    const env = { ...process.env };
    delete env.NOTIFY_SOCKET;
    const child = spawn(TWCGW, ['-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env });
    gw = { child, stderr: '', exited: null };
    child.stderr.on('data', (d) => { gw.stderr += d; });
    gw.exitPromise = new Promise((r) => child.on('exit', (code) => { gw.exited = { code }; r(gw.exited); }));
    await waitFor('running', () => /running with/.test(gw.stderr), 5000);
    const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
    assert.ok(!maps.includes('libsystemd'), 'libsystemd mapped without NOTIFY_SOCKET');
    child.kill('SIGTERM');
    assert.equal((await gw.exitPromise).code, 0);
  } finally {
    if (gw && !gw.exited) gw.child.kill('SIGKILL');
    await stop(sim);
    cleanup(dir);
  }
});

test('the unit file passes systemd-analyze verify; twcgw(8) lists every option of -h', (t) => {
  const help = run(TWCGW, ['-h']).stdout;
  const page = readFileSync(path.join(root, 'docs/man/twcgw.8'), 'utf8');
  const opts = [...new Set(help.match(/(?<=\s)--?[a-z][a-z-]*/g))];
  assert.ok(opts.length >= 10, opts.join(' '));
  for (const o of opts) assert.ok(page.includes(o.replace(/-/g, '\\-')), `twcgw.8 lacks ${o}`);

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (analyze.error) { t.skip('systemd-analyze is not installed'); return; }
  const dir = tempDir();
  try {
    // verify runs `man` for Documentation= and checks ExecStart exists: point both at this build.
    for (const [sec, f] of [['man5', 'twcgw.json.5'], ['man8', 'twcgw.8']]) {
      mkdirSync(path.join(dir, 'man', sec), { recursive: true });
      copyFileSync(path.join(root, 'docs/man', f), path.join(dir, 'man', sec, f));
    }
    const unit = readFileSync(path.join(root, 'packaging/twcgw.service'), 'utf8').replaceAll('/usr/bin/twcgw', path.resolve(TWCGW));
    writeFileSync(path.join(dir, 'twcgw.service'), unit);
    const v = spawnSync('systemd-analyze', ['verify', path.join(dir, 'twcgw.service')],
      { encoding: 'utf8', cwd: dir, env: { ...process.env, MANPATH: path.join(dir, 'man') } });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.equal((v.stdout + v.stderr).trim(), '', v.stdout + v.stderr);
  } finally {
    cleanup(dir);
  }
});

test('cmake --install lays out the service: programs, unit, man pages, example config, docs', () => {
  const build = path.resolve(path.dirname(TWCGW), '..');
  const dest = tempDir();
  try {
    const r = spawnSync('cmake', ['--install', build, '--prefix', '/usr'],
      { encoding: 'utf8', env: { ...process.env, DESTDIR: dest } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const f of ['usr/bin/twcgw', 'usr/bin/twc-sim', 'usr/lib/systemd/system/twcgw.service',
      'usr/share/man/man8/twcgw.8', 'usr/share/man/man5/twcgw.json.5',
      'usr/share/doc/twcgw/README.md', 'usr/share/doc/twcgw/ocpp.md']) {
      assert.ok(existsSync(path.join(dest, f)), `${f} not installed`);
    }
    // /etc when the build was configured for /usr (the packages), else under the configured prefix.
    const conf = ['etc/twcgw/twcgw.json', 'usr/local/etc/twcgw/twcgw.json'].map((f) => path.join(dest, f)).find(existsSync);
    assert.ok(conf, 'the example config is not installed');
    // The example refuses to run until its placeholder limits were looked at and the line deleted.
    let check = run(path.join(dest, 'usr/bin/twcgw'), ['-n', '-c', conf]);
    assert.equal(check.status, 2);
    assert.match(check.stderr, /exampleConfig: this is the example config: set twc\.wiringMaxAmpsAllTWCs/);
    const edited = JSON.parse(readFileSync(conf, 'utf8'));
    delete edited.exampleConfig;
    writeFileSync(conf, JSON.stringify(edited));
    check = run(path.join(dest, 'usr/bin/twcgw'), ['-n', '-c', conf]);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /config OK/);
  } finally {
    cleanup(dest);
  }
});
