// What the node benchmarks (bench_cp.mjs, bench_depot.mjs) share: starting the binaries and stopping
// every one still running when a run fails, waiting for a line or a condition, and sampling a
// process in /proc (RSS, private memory, CPU as ticks and as scheduler time, wake-ups), so each
// figure is taken the same way in every table.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
export const mib = (kib) => kib / 1024;
export const live = new Set(); // children still running, so any failure stops them all

// ---- processes --------------------------------------------------------------------------------

export function spawnProc(bin, args, name) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = { name, child, out: '', exited: null };
  live.add(p);
  const keep = (d) => { p.out = (p.out + d).slice(-20000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  p.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { p.exited = { code, signal }; live.delete(p); resolve(p.exited); });
    child.on('error', (e) => { p.exited = { error: e.message }; live.delete(p); resolve(p.exited); });
  });
  return p;
}

export async function waitOut(p, re, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const m = p.out.match(re);
    if (m) return m;
    if (p.exited) throw new Error(`${p.name} exited early ${JSON.stringify(p.exited)}: ${p.out.slice(-1500)}`);
    await sleep(10);
  }
  throw new Error(`${p.name} not ready within ${timeoutMs} ms: ${p.out.slice(-1500)}`);
}

export async function stop(p) {
  if (!p || p.exited) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 5000);
  await p.exitPromise;
  clearTimeout(t);
}

// The step has no default: one bench polls its simulator every 50 ms, the other a whole depot's
// central system every 200 ms.
export async function waitFor(what, fn, timeoutMs, stepMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// ---- /proc ------------------------------------------------------------------------------------

export function statTicksMs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}
// Scheduler run time in ms summed over threads: utime+stime counts 10 ms ticks, too coarse for a
// quiet process.
export function schedMs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* gone */ }
  }
  return ns / 1e6;
}
// Context switches summed over threads: each is a wake-up.
export function switches(pid) {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)[1]) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)[1]);
    } catch { /* gone */ }
  }
  return n;
}
export function statusKiB(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
// Private (Private_Clean + Private_Dirty) and shared memory in KiB.
export function rollupKiB(pid) {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const g = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? NaN);
  return { private: g('Private_Clean') + g('Private_Dirty'), shared: g('Shared_Clean') + g('Shared_Dirty') };
}
