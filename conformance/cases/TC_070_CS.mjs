// TC_070_CS Sampled Meter Values.
import { boot, check, remoteStartTx, getConfiguration, ms, sec, energyWh } from '../lib/steps.mjs';

const I = 2;
const MEASURANDS = 'Energy.Active.Import.Register,Current.Import';
const UNITS = {
  'Energy.Active.Import.Register': ['Wh', 'kWh'],
  'Current.Import': ['A'],
  'Current.Offered': ['A'],
  Voltage: ['V'],
  'Power.Active.Import': ['W', 'kW'],
};

export default {
  id: 'TC_070_CS',
  name: 'Sampled Meter Values',
  requirement: 'During a transaction the charge point sends MeterValues every MeterValueSampleInterval seconds '
    + 'from the start of the transaction, with the transactionId; each sample holds one sampledValue per '
    + 'measurand configured in MeterValuesSampledData (per phase where phases are reported), context '
    + 'Sample.Periodic, proper units, location EV only for SoC; the energy register does not go backwards '
    + '(OCPP 1.6 4.7, 9.1.15-9.1.17).',
  needs: ['stimulus'],
  config: { keys: { MeterValueSampleInterval: I, MeterValuesSampledData: MEASURANDS } },
  timeoutMs: 80000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const cfg = await getConfiguration(ctx, ['MeterValuesSampledData', 'MeterValueSampleInterval']);
    const configured = cfg.get('MeterValuesSampledData')?.value ?? '';
    check(cfg.get('MeterValueSampleInterval')?.value === String(I), `MeterValueSampleInterval is ${cfg.get('MeterValueSampleInterval')?.value}, the case set ${I}`);
    const measurands = configured.split(',').map((s) => s.trim()).filter(Boolean);
    check(measurands.length > 0, 'MeterValuesSampledData is empty');
    const { transactionId, start } = await remoteStartTx(ctx);
    const got = [];
    for (let i = 0; i < 4; i++) {
      got.push(await csms.waitFor('MeterValues', { transactionId }, I * 1000 + 8000, { since: (got.at(-1)?.seq ?? start.seq) + 1 }));
    }
    const times = [];
    let lastWh = -Infinity;
    for (const e of got) {
      check(e.payload.connectorId === 1, `MeterValues for transaction ${transactionId} on connectorId ${e.payload.connectorId}: ${csms.fmt(e)}`);
      for (const mv of e.payload.meterValue) {
        times.push(ms(mv.timestamp));
        const counts = {};
        for (const sv of mv.sampledValue) {
          const m = sv.measurand || 'Energy.Active.Import.Register';
          const key = `${m}/${sv.phase || ''}`;
          counts[key] = (counts[key] || 0) + 1;
          check((sv.context || 'Sample.Periodic') === 'Sample.Periodic', `sampledValue context ${sv.context}, expected Sample.Periodic: ${csms.fmt(e)}`);
          check(!(sv.location === 'EV' && m !== 'SoC'), `location EV on ${m} (EV is only for SoC): ${csms.fmt(e)}`);
          check(measurands.includes(m), `measurand ${m} is not in MeterValuesSampledData (${configured}): ${csms.fmt(e)}`);
          const units = UNITS[m];
          if (units) check(units.includes(sv.unit || (m.startsWith('Energy') ? 'Wh' : undefined)), `${m} with unit ${sv.unit ?? '(none: Wh)'}, expected ${units.join(' or ')}: ${csms.fmt(e)}`);
          check(!Number.isNaN(Number(sv.value)), `sampledValue value ${JSON.stringify(sv.value)} is not a number`);
        }
        for (const m of measurands) {
          check(Object.keys(counts).some((k) => k.startsWith(`${m}/`)), `sample at ${mv.timestamp} has no ${m}: ${csms.fmt(e)}`);
        }
        for (const [k, n] of Object.entries(counts)) check(n === 1, `sample at ${mv.timestamp} has ${n} values for ${k}: ${csms.fmt(e)}`);
        const wh = energyWh(mv.sampledValue);
        if (wh !== null) {
          check(wh >= lastWh, `energy register went backwards: ${lastWh} Wh then ${wh} Wh`);
          lastWh = wh;
        }
      }
    }
    const d0 = times[0] - ms(start.payload.timestamp);
    check(d0 <= I * 1000 + 1500, `the first sample came ${sec(d0)} after the transaction start, expected within MeterValueSampleInterval ${I} s`);
    for (let i = 1; i < times.length; i++) {
      const d = times[i] - times[i - 1];
      check(Math.abs(d - I * 1000) <= 1000, `samples ${sec(d)} apart, expected MeterValueSampleInterval ${I} s`);
    }
  },
};
