// TC_071_CS Clock-aligned Meter Values.
import { boot, check, getConfiguration, ms } from '../lib/steps.mjs';

const A = 5; // ClockAlignedDataInterval, s (divides a day)

export default {
  id: 'TC_071_CS',
  name: 'Clock-aligned Meter Values',
  requirement: 'With ClockAlignedDataInterval set, the charge point sends MeterValues at every wall-clock multiple '
    + 'of the interval counted from midnight, with timestamps on those boundaries, context Sample.Clock and the '
    + 'measurands of MeterValuesAlignedData, for each connector (OCPP 1.6 4.7, 9.1.4, 9.1.13).',
  needs: [],
  config: { keys: { ClockAlignedDataInterval: A, MeterValuesAlignedData: 'Energy.Active.Import.Register' } },
  timeoutMs: 80000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const cfg = await getConfiguration(ctx, ['ClockAlignedDataInterval', 'MeterValuesAlignedData']);
    check(cfg.get('ClockAlignedDataInterval')?.value === String(A), `ClockAlignedDataInterval is ${cfg.get('ClockAlignedDataInterval')?.value}, the case set ${A}`);
    const measurands = (cfg.get('MeterValuesAlignedData')?.value || '').split(',').map((s) => s.trim()).filter(Boolean);
    const since = csms.mark();
    const clock = (p) => p.meterValue.some((mv) => mv.sampledValue.some((sv) => sv.context === 'Sample.Clock'));
    clock.desc = 'context Sample.Clock';
    const first = await csms.waitFor('MeterValues', clock, A * 1000 + 8000, { since });
    const conn = first.payload.connectorId;
    const same = (p) => clock(p) && p.connectorId === conn;
    same.desc = `context Sample.Clock on connector ${conn}`;
    const second = await csms.waitFor('MeterValues', same, A * 1000 + 8000, { since: first.seq + 1 });
    const third = await csms.waitFor('MeterValues', same, A * 1000 + 8000, { since: second.seq + 1 });
    const times = [];
    for (const e of [first, second, third]) {
      for (const mv of e.payload.meterValue) {
        const t = ms(mv.timestamp);
        times.push(t);
        const off = ((t % (A * 1000)) + A * 1000) % (A * 1000);
        check(off <= 1000 || off >= A * 1000 - 1000, `clock-aligned sample at ${mv.timestamp} is not on a ${A} s boundary`);
        check(e.t - t < 5000, `clock-aligned sample for ${mv.timestamp} was sent ${(e.t - t) / 1000} s late`);
        for (const sv of mv.sampledValue) {
          check(sv.context === 'Sample.Clock', `sampledValue context ${sv.context} in a clock-aligned sample: ${csms.fmt(e)}`);
          const m = sv.measurand || 'Energy.Active.Import.Register';
          check(measurands.includes(m), `measurand ${m} is not in MeterValuesAlignedData: ${csms.fmt(e)}`);
        }
        for (const m of measurands) check(mv.sampledValue.some((sv) => (sv.measurand || 'Energy.Active.Import.Register') === m), `clock-aligned sample lacks ${m}: ${csms.fmt(e)}`);
      }
    }
    for (let i = 1; i < times.length; i++) {
      check(Math.abs(times[i] - times[i - 1] - A * 1000) <= 1000, `clock-aligned samples ${(times[i] - times[i - 1]) / 1000} s apart on connector ${conn}, expected ${A} s`);
    }
  },
};
