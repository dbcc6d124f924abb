// TC_066_CS Get Composite Schedule: ChargePointMaxProfile + TxDefaultProfile + TxProfile, period by period.
import {
  boot, check, requireSmartCharging, remoteStartTx, chargingProfile, installProfile, getCompositeSchedule,
  checkPeriods, compositeOf, fmtPeriods, waitBusLimit, ms,
} from '../lib/steps.mjs';

const DURATION = 400;
const WIRING = 32;
// ChargePointMaxProfile, connector 0: 10 A for 86400 s from now.
const CP_MAX = { limit: 10, duration: 86400 };
// Chosen by this case (OCTT leaves them to the test configuration), both Absolute from the same startSchedule S:
// TxDefaultProfile, connector 1, open-ended: 0 s 16 A, 150 s 8 A, 300 s 12 A.
const TX_DEFAULT = [[0, 16], [150, 8], [300, 12]];
// TxProfile, connector 1, the running transaction, 260 s long: 0 s 6 A, 80 s 14 A, 160 s 9 A.
const TX = [[0, 6], [80, 14], [160, 9]];
const TX_S = 260;
// Composite for 400 s from S: TxProfile while it lasts, then the TxDefaultProfile, each capped at 10 A:
//   0-80 s: Tx 6 | 80-160: Tx 14 -> 10 | 160-260: Tx 9 | 260-300: TxDefault 8 | 300-400: TxDefault 12 -> 10
const EXPECTED = [[0, 6], [80, 10], [160, 9], [260, 8], [300, 10]];
// S lies this far ahead of the requests, so that GetCompositeSchedule, sent at once, falls within the second
// before S and the composite shows the periods at their own offsets (startPeriod is whole seconds).
const LEAD_MS = 800;

const periodAt = (periods, rel) => periods.filter(([p]) => rel >= p * 1000).at(-1)[1];

export default {
  id: 'TC_066_CS',
  name: 'Get Composite Schedule',
  profile: 'SmartCharging',
  requirement: 'With MaxChargingProfilesInstalled >= 3 and ChargingScheduleMaxPeriods >= 5, a ChargePointMaxProfile '
    + `(connector 0, ${CP_MAX.limit} A, duration ${CP_MAX.duration} s), a TxDefaultProfile and a TxProfile for the running `
    + 'transaction are each Accepted, and GetCompositeSchedule(connector 1, 400 s) is Accepted with the exact '
    + 'composite: the TxProfile overrules the TxDefaultProfile while it is valid, and the result never exceeds the '
    + 'ChargePointMaxProfile (OCPP 1.6 3.13.2-3.13.4, 5.7). This case\'s profiles: TxDefaultProfile '
    + `${JSON.stringify(TX_DEFAULT)} open-ended, TxProfile ${JSON.stringify(TX)} for ${TX_S} s, both Absolute from the same `
    + `startSchedule; expected composite ${JSON.stringify(EXPECTED)} ([startPeriod s, limit A]). GetCompositeSchedule `
    + `for connector 0 reports the ChargePointMaxProfile alone. twcgw: the Wall Connector is told the TxProfile's 6 A.`,
  needs: ['stimulus'],
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx);
    const cfg = await requireSmartCharging(ctx);
    const maxInstalled = Number(cfg.get('MaxChargingProfilesInstalled')?.value);
    const maxPeriods = Number(cfg.get('ChargingScheduleMaxPeriods')?.value);
    check(maxInstalled >= 3, `MaxChargingProfilesInstalled is ${cfg.get('MaxChargingProfilesInstalled')?.value}, the case needs at least 3`);
    check(maxPeriods >= 5, `ChargingScheduleMaxPeriods is ${cfg.get('ChargingScheduleMaxPeriods')?.value}, the case needs at least 5`);
    const { transactionId } = await remoteStartTx(ctx);

    const cpStart = Date.now();
    const S = cpStart + LEAD_MS;
    await installProfile(ctx, 0, chargingProfile({ id: 661, stack: 0, purpose: 'ChargePointMaxProfile', startSchedule: cpStart, duration: CP_MAX.duration, periods: [[0, CP_MAX.limit]] }));
    await installProfile(ctx, 1, chargingProfile({ id: 662, stack: 0, purpose: 'TxDefaultProfile', startSchedule: S, periods: TX_DEFAULT }));
    await installProfile(ctx, 1, chargingProfile({ id: 663, stack: 0, purpose: 'TxProfile', transactionId, startSchedule: S, duration: TX_S, periods: TX }));
    const c = await getCompositeSchedule(ctx, { connectorId: 1, duration: DURATION });
    const s = c.r.chargingSchedule;
    check(s.duration === DURATION, `composite duration ${s.duration}, expected ${DURATION}`);
    check(s.chargingRateUnit === 'A', `composite chargingRateUnit ${s.chargingRateUnit}, expected A (none asked for)`);

    // The expected composite relative to the reported start: EXPECTED itself when the request came in the
    // second before S; a slower answer moves every boundary by the same whole seconds.
    const start = ms(s.startSchedule ?? c.r.scheduleStart);
    const limitAt = (t) => {
      let v = WIRING;
      if (t >= S) v = periodAt(TX_DEFAULT, t - S);
      if (t >= S && t < S + TX_S * 1000) v = periodAt(TX, t - S);
      if (t >= cpStart && t < cpStart + CP_MAX.duration * 1000) v = Math.min(v, CP_MAX.limit);
      return v;
    };
    const changes = [S, ...TX.map(([p]) => S + p * 1000), S + TX_S * 1000, ...TX_DEFAULT.map(([p]) => S + p * 1000), cpStart + CP_MAX.duration * 1000];
    const expected = compositeOf({ start, durationS: DURATION, changes, limitAt });
    if (JSON.stringify(expected) !== JSON.stringify(EXPECTED)) {
      ctx.log(`the composite starts ${start - S} ms after the profiles' startSchedule (not in the second before it): expecting ${fmtPeriods(expected)} instead of ${fmtPeriods(EXPECTED)}`);
    }
    checkPeriods(c.periods, expected, `GetCompositeSchedule(connector 1, ${DURATION} s) with ChargePointMax ${CP_MAX.limit} A + TxDefault + TxProfile (startSchedule ${s.startSchedule}, profiles from ${new Date(S).toISOString()})`);

    const c0 = await getCompositeSchedule(ctx, { connectorId: 0, duration: DURATION });
    checkPeriods(c0.periods, [[0, CP_MAX.limit]], `GetCompositeSchedule(connector 0, ${DURATION} s): the ChargePointMaxProfile alone`);

    await waitBusLimit(ctx, { amps: TX[0][1], t0: S, what: `the TxProfile's first period (${TX[0][1]} A), from the profiles' startSchedule` });
  },
};
