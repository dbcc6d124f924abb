#!/usr/bin/env node
// The conformance runner: runs OCTT-style OCPP 1.6J charge-point cases (conformance/cases/*.mjs) one
// after the other, each against a fresh scripted CSMS and, locally, fresh twcgw + twc-sim processes
// with a fresh dataDir. Prints one line per case (PASS / FAIL with the reason / N/A with the reason),
// writes JUnit XML, and ends with "N passed, N failed, N skipped" (skipped = not applicable); exits 1 if any case failed.
//
//   node conformance/run.mjs [--junit FILE] [--only TC_001_CS,TC_003_CS] [--timeout S] [-v]
//                            [--twcgw BIN --twcsim BIN | --listen [HOST:]PORT | --url ws://HOST:PORT/path]
//
// Local mode (the default) runs build/bin/twcgw against build/bin/twc-sim. With --listen or --url the
// runner is the CSMS for any charge point the operator points at it; cases that need a physical
// stimulus (plugging a car, a fault) or process control (power cut) are then not applicable.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Csms, CaseFailure, NotApplicable, CaseEnded } from './lib/csms.mjs';
import { LocalSut, RemoteSut, CHARGE_BOX_ID } from './lib/sut.mjs';
import * as steps from './lib/steps.mjs';
import { junitXml } from './lib/junit.mjs';
import { testPki, cleanupPki, serverTls } from './lib/tls.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

// Initial OCPP key values for every local case (twcgw's ocpp.keys): short intervals so that the suite
// runs in minutes. A case adds or overrides keys in its `config.keys`.
const SUITE_KEYS = {
  HeartbeatInterval: 10,
  MeterValueSampleInterval: 5,
  ConnectionTimeOut: 10,
  TransactionMessageAttempts: 3,
  TransactionMessageRetryInterval: 1,
};

function usage(code) {
  console.log(`usage: node conformance/run.mjs [options]
  --junit FILE          write JUnit XML
  --only ID,ID          run only these cases (e.g. TC_001_CS,OWN_MALFORMED)
  --list                list the cases and exit
  --timeout S           per-case timeout when the case sets none (60)
  --twcgw BIN           twcgw binary (build/bin/twcgw)
  --twcsim BIN          twc-sim binary (build/bin/twc-sim)
  --listen [HOST:]PORT  remote mode: be the CSMS on HOST:PORT (127.0.0.1) for any charge point
  --url ws://H:P/path   remote mode, listening on H:P; the charge point connects to ws://H:P/path/<id>
  --connect-timeout S   remote mode: how long to wait for the charge point to connect (120)
  --keep                keep each case's temporary directory (config, dataDir, logs)
  -v, --verbose         log every frame and print the transcript of failed cases`);
  process.exit(code);
}

function parseArgs(argv) {
  const a = { timeout: 60, connectTimeout: 120, verbose: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(2); return argv[++i]; };
    switch (k) {
      case '--junit': a.junit = val(); break;
      case '--only': a.only = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--list': a.list = true; break;
      case '--timeout': a.timeout = Number(val()); break;
      case '--twcgw': a.twcgw = val(); break;
      case '--twcsim': a.twcsim = val(); break;
      case '--listen': a.listen = val(); break;
      case '--url': a.url = val(); break;
      case '--connect-timeout': a.connectTimeout = Number(val()); break;
      case '--keep': a.keep = true; break;
      case '-v': case '--verbose': a.verbose = true; break;
      case '-h': case '--help': usage(0); break;
      default: console.error(`unknown option ${k}`); usage(2);
    }
  }
  return a;
}

function caseOrder(id) {
  // TC_001_CS, TC_011_2_CS ... by number, then our own cases.
  const m = id.match(/^TC_(\d+)(?:_(\d+))?_CS$/);
  return m ? Number(m[1]) * 100 + Number(m[2] || 0) : 1e6;
}

async function loadCases() {
  const dir = path.join(here, 'cases');
  const out = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.mjs'))) {
    const mod = await import(pathToFileURL(path.join(dir, f)).href);
    const c = mod.default || mod;
    if (!c.id || !c.run) throw new Error(`${f}: a case exports id, name, requirement, needs and run`);
    out.push({ file: `conformance/cases/${f}`, profile: 'Core', needs: [], config: {}, ...c });
  }
  return out.sort((x, y) => caseOrder(x.id) - caseOrder(y.id) || x.id.localeCompare(y.id));
}

const stamp = () => new Date().toISOString().slice(11, 23);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let cases = await loadCases();
  if (args.list) {
    for (const c of cases) console.log(`${c.id.padEnd(14)} ${c.name}  [needs: ${c.needs.join(',') || '-'}]`);
    return 0;
  }
  if (args.only) {
    const unknown = args.only.filter((id) => !cases.some((c) => c.id === id));
    if (unknown.length) { console.error(`no such case: ${unknown.join(', ')}`); return 2; }
    cases = cases.filter((c) => args.only.includes(c.id));
  }

  const remote = !!(args.listen || args.url);
  const verboseLog = (line) => { if (args.verbose) console.error(`${stamp()} ${line}`); };
  let shared = null;
  if (remote) {
    let host = '127.0.0.1';
    let port;
    let pathPart = '/ocpp';
    if (args.url) {
      const u = new URL(args.url);
      host = u.hostname;
      port = Number(u.port || 80);
      pathPart = u.pathname.replace(/\/$/, '') || '/ocpp';
    } else {
      const m = String(args.listen).match(/^(?:(.+):)?(\d+)$/);
      if (!m) usage(2);
      host = m[1] || host;
      port = Number(m[2]);
    }
    shared = new Csms({ host, port, log: verboseLog });
    await shared.listen();
    console.log(`CSMS listening on ${host}:${shared.port}: point the charge point at ws://${host}:${shared.port}${pathPart}/<chargeBoxId>`);
  } else {
    args.twcgw = path.resolve(args.twcgw || process.env.TWCGW_BIN || path.join(root, 'build/bin/twcgw'));
    args.twcsim = path.resolve(args.twcsim || process.env.TWCSIM_BIN || path.join(root, 'build/bin/twc-sim'));
  }

  const results = [];
  const suiteStart = Date.now();
  for (const c of cases) {
    const r = await runCase(c, { args, remote, shared, verboseLog });
    results.push(r);
    const t = `(${(r.ms / 1000).toFixed(1)} s)`;
    if (r.outcome === 'pass') console.log(`PASS ${c.id} ${c.name} ${t}`);
    else if (r.outcome === 'fail') console.log(`FAIL ${c.id} ${c.name}: ${r.reason} ${t}`);
    else console.log(`N/A  ${c.id} ${c.name}: ${r.reason}`);
    if (r.outcome === 'fail' && args.verbose) {
      console.log(`  --- transcript (last 40) ---\n${indent(r.transcriptTail)}`);
      if (r.stderrTail) console.log(`  --- twcgw stderr (last 30 lines) ---\n${indent(r.stderrTail.split('\n').slice(-30).join('\n'))}`);
    }
  }
  if (shared) await shared.close();
  cleanupPki();

  const n = (o) => results.filter((r) => r.outcome === o).length;
  const wall = (Date.now() - suiteStart) / 1000;
  if (args.junit) {
    mkdirSync(path.dirname(path.resolve(args.junit)), { recursive: true });
    writeFileSync(args.junit, junitXml(results, wall));
  }
  console.log(`conformance: ${results.length} cases in ${wall.toFixed(1)} s${args.junit ? `, JUnit XML in ${args.junit}` : ''}`);
  console.log(`${n('pass')} passed, ${n('fail')} failed, ${n('na')} skipped`);
  return n('fail') ? 1 : 0;
}

function indent(text) {
  return String(text || '').split('\n').map((l) => `  ${l}`).join('\n');
}

async function runCase(c, { args, remote, shared, verboseLog }) {
  const t0 = Date.now();
  const result = { id: c.id, name: c.name, profile: c.profile, file: c.file, requirement: c.requirement };
  const done = (outcome, reason, extra = {}) => Object.assign(result, { outcome, reason, ms: Date.now() - t0, ...extra });

  if (remote) {
    if (c.needs.includes('stimulus')) return done('na', 'not applicable: needs physical stimulus');
    if (c.needs.includes('powercut')) return done('na', 'not applicable: needs process control (power cut)');
    if (c.needs.includes('local')) return done('na', 'not applicable: needs the twcgw configuration file');
  }

  const keys = { ...(remote ? {} : SUITE_KEYS), ...(c.config.keys || {}) };
  const log = (line) => verboseLog(`[${c.id}] ${line}`);
  let csms;
  let sut;
  let pki = null;
  // TLS cases: the CSMS listens with the test PKI's server certificate, and twcgw trusts its CA.
  // tls 'client' (security profile 3): the CSMS also requires a charge-point certificate from that
  // CA, and twcgw starts with the PKI's first one (ocpp.certFile, ocpp.keyFile).
  // config.pki: the PKI without TLS (certificates to install, firmware to sign).
  if (c.config.tls || c.config.pki) {
    try {
      pki = testPki();
    } catch (err) {
      if (err.code === 'ENOENT') return done('na', 'not applicable here: the openssl command (to make a test CA) is not installed');
      throw err;
    }
  }
  if (remote) {
    csms = shared;
    csms.reset({ heartbeatInterval: Number(keys.HeartbeatInterval || 300) });
    sut = new RemoteSut({ csms, log });
  } else {
    const mtls = c.config.tls === 'client';
    csms = new Csms({ heartbeatInterval: keys.HeartbeatInterval, tls: pki && c.config.tls ? serverTls(pki, { client: mtls }) : null, log });
    await csms.listen();
    sut = new LocalSut({
      twcgw: args.twcgw,
      twcsim: args.twcsim,
      csmsUrl: csms.url,
      slaves: c.config.slaves || 1,
      ocpp: {
        ...(pki && c.config.tls ? { caFile: pki.caFile } : {}),
        ...(pki && mtls ? { certFile: pki.cp.certFile, keyFile: pki.cp.keyFile } : {}),
        ...(c.config.ocpp || {}),
      },
      keys,
      log,
      onCrash: (reason) => csms.fail(reason),
    });
  }

  const ctx = {
    id: c.id,
    mode: remote ? 'remote' : 'local',
    csms,
    sut,
    pki,
    keys,
    caseKeys: c.config.keys || {},
    connectors: remote ? 1 : (c.config.slaves || 1),
    connectTimeoutMs: args.connectTimeout * 1000,
    log,
    check: steps.check,
    na: (reason) => { throw new NotApplicable(reason); },
    fail: (reason) => { throw new CaseFailure(reason); },
    sleep: (ms) => csms.sleep(ms),
  };

  const timeoutMs = c.timeoutMs || args.timeout * 1000;
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => {
      const waiting = [...csms._waiters].map((w) => w.what).filter(Boolean);
      reject(new CaseFailure(`case timed out after ${timeoutMs / 1000} s${waiting.length ? ` while waiting for ${waiting.join(', ')}` : ''}`));
    }, timeoutMs);
  });
  const running = (async () => c.run(ctx))();
  running.catch(() => {});
  try {
    await Promise.race([running, csms.failed, timeout]);
    // A violation seen while the case was finishing still fails it.
    await new Promise((r) => setImmediate(r));
    if (csms.failures.length) done('fail', csms.failures[0]);
    else done('pass');
  } catch (err) {
    if (err instanceof NotApplicable) done('na', err.message.startsWith('not applicable') ? err.message : `not applicable: ${err.message}`);
    else if (err instanceof CaseFailure) done('fail', csms.failures[0] || err.message);
    else if (err instanceof CaseEnded) done('fail', csms.failures[0] || 'case ended early');
    else done('fail', `harness error: ${err.stack || err}`);
  } finally {
    clearTimeout(timer);
    csms.endCase();
    result.transcript = csms.transcriptText();
    result.transcriptTail = csms.transcriptText({ last: 40 });
    result.stderrTail = sut.stderrTail(200);
    if (!remote) {
      await sut.stop({ keep: args.keep }).catch(() => {});
      await csms.close();
      if (args.keep) log(`kept ${sut.dir}`);
    }
    result.ms = Date.now() - t0;
  }
  return result;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err.stack || err);
  process.exit(2);
});
