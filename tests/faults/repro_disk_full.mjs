#!/usr/bin/env node
// Reproduction (not part of the suite's pass/fail): what a full disk does to a transaction, step by
// step, with one Wall Connector. The dataDir is a 1 MB tmpfs in a private user+mount namespace (see
// rig.mjs). A transaction starts and sends MeterValues every second; the disk is filled; the
// journal fails once the slack in its last page is used up; the car is unplugged (its
// StopTransaction can only wait in memory), plugged in again and started remotely (a second
// transaction, charging, whose StartTransaction can only wait in memory); twcgw is killed, the disk
// freed, twcgw started again. Prints what the central system received.
//
//   node tests/faults/repro_disk_full.mjs [--twcgw BIN] [--twcsim BIN]
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultCsms } from './csms.mjs';
import { startSim, startSmallDisk, Gateway, sleep } from './rig.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? path.resolve(process.argv[i + 1]) : dflt; };
const TWCGW = arg('--twcgw', path.join(root, 'build/bin/twcgw'));
const TWCSIM = arg('--twcsim', path.join(root, 'build/bin/twc-sim'));

const dir = mkdtempSync(path.join(os.tmpdir(), 'twcgw-diskfull-'));
const disk = await startSmallDisk(path.join(dir, 'disk'), 1024);
if (!disk.supported) { console.log(`cannot run: ${disk.why}`); process.exit(2); }
const cs = new FaultCsms({ rng: Math.random, callTimeoutMs: 5000 });
const url = await cs.listen();
const sim = await startSim(TWCSIM, dir, { slaves: 1, seed: 3 });
const cfg = path.join(dir, 'twcgw.json');
writeFileSync(cfg, JSON.stringify({
  dataDir: path.join(dir, 'disk', 'data'),
  twc: { port: `tcp://127.0.0.1:${sim.port}`, wiringMaxAmpsAllTWCs: 40, wiringMaxAmpsPerTWC: 32 },
  log: { level: 'info', statusInterval: 60 },
  ocpp: { url, chargeBoxId: 'DISKFULL', callTimeout: 5, keys: { MeterValueSampleInterval: 1 } },
}));
const gw = new Gateway({ bin: TWCGW, cfgFile: cfg, logFile: path.join(dir, 'twcgw.log'), disk });
let log = '';
gw.onLine = (l) => { log += `${l}\n`; };
const say = (line) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
const slave = async () => { const s = (await sim.control('status')).slaves[0]; return `slave told ${s.toldAmps} A, held ${s.heldAmps} A, car draws ${s.drawnAmps} A`; };
const txLines = () => log.split('\n').filter((l) => /transaction|journal/.test(l));
try {
  gw.start();
  await sleep(3000);
  await sim.ok('plug 0 32');
  say(`RemoteStartTransaction A1: ${JSON.stringify((await cs.call('RemoteStartTransaction', { connectorId: 1, idTag: 'A1' })).result)}`);
  await sleep(3000);
  say(`transaction A1 charging: ${await slave()}`);
  say(`disk filled (${disk.fill()} bytes)`);
  for (let i = 0; i < 60 && !/journal: write failed/.test(log); i++) await sleep(500);
  say(`journal failing: ${/journal: write failed/.test(log)}`);
  await sim.ok('unplug 0');
  say('car unplugged; waiting 13 s (a Wall Connector reports state 09 for 12 s after a new limit)');
  await sleep(13000);
  await sim.ok('plug 0 32');
  await sleep(2000);
  say(`RemoteStartTransaction B2: ${JSON.stringify((await cs.call('RemoteStartTransaction', { connectorId: 1, idTag: 'B2' })).result)}`);
  await sleep(5000);
  say(`transaction B2 charging: ${await slave()}`);
  say('twcgw logged:');
  for (const l of txLines()) console.log(`    ${l}`);
  await gw.kill('SIGKILL');
  say('SIGKILL; disk freed; twcgw started again');
  disk.free();
  const at = log.length;
  gw.start();
  await sleep(8000);
  say('twcgw logged after the restart:');
  for (const l of log.slice(at).split('\n').filter((x) => /transaction|journal/.test(x))) console.log(`    ${l}`);
  say('the central system received:');
  for (const s of cs.starts.values()) console.log(`    StartTransaction idTag ${s.idTag} meterStart ${s.meterStart} -> transactionId ${s.txId}`);
  for (const r of cs.meterValues.values()) console.log(`    MeterValues tx ${r.payload.transactionId} ${r.payload.meterValue.map((m) => `${m.timestamp} ${m.sampledValue.map((v) => `${v.value} ${v.unit || ''}`).join(', ')}`).join('; ')}`);
  for (const st of cs.stops.values()) for (const p of st.payloads.values()) console.log(`    StopTransaction ${JSON.stringify(p.payload)}`);
  const b2 = cs.txOfTag('B2');
  console.log(b2 ? 'B2 reached the central system' : 'B2 (which charged) never reached the central system');
} finally {
  await gw.kill('SIGKILL');
  sim.child.kill();
  await cs.close();
  disk.close();
  rmSync(dir, { recursive: true, force: true });
}
