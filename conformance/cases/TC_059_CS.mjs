// TC_059_CS Remote Start Transaction with Charging Profile.
import { boot, check, requireSmartCharging, replyOf, chargingProfile, getCompositeSchedule, checkPeriods, compositeOf, waitBusLimit, ms, TAG, plugPreparing } from '../lib/steps.mjs';

// The TxProfile sent with RemoteStartTransaction: Relative (from the transaction start), 180 s long.
const PERIODS = [[0, 8], [60, 12], [120, 16]];
const PROFILE_S = 180;
const DURATION = 300;   // GetCompositeSchedule duration
const WIRING = 32;      // what the SUT's connector allows where no profile applies
const VOLTS = 230;      // twc.voltage × twc.phases (1): W = A × 230
const MAX_DEVIATION_MS = 2000; // startSchedule vs. the time of the request (CSMS and charge point share a clock)

export default {
  id: 'TC_059_CS',
  name: 'Remote Start Transaction with Charging Profile',
  profile: 'SmartCharging',
  requirement: 'RemoteStartTransaction carrying a chargingProfile (purpose TxProfile, no transactionId) is Accepted; '
    + 'the transaction that starts is governed by it (the charge point uses that TxProfile for the transaction it '
    + 'starts, OCPP 1.6 5.11, 3.13.1). GetCompositeSchedule for the connector is Accepted with the '
    + 'requested duration, the requested chargingRateUnit (A, then W), a startSchedule within the max deviation '
    + `(${MAX_DEVIATION_MS / 1000} s) of the request, and periods as the profile gives them: Relative ${JSON.stringify(PERIODS)} `
    + `for ${PROFILE_S} s from the transaction start, then the ${WIRING} A wiring (W = A × 230 V × 1 phase). twcgw: the `
    + 'Wall Connector is told the first period\'s 8 A from the start of the transaction.',
  needs: ['stimulus'],
  timeoutMs: 60000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    await requireSmartCharging(ctx);
    const since = await plugPreparing(ctx, 1);
    const chargingProfileReq = chargingProfile({ id: 591, stack: 0, purpose: 'TxProfile', kind: 'Relative', duration: PROFILE_S, periods: PERIODS });
    const r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG, chargingProfile: chargingProfileReq });
    check(r.status === 'Accepted', `RemoteStartTransaction with a TxProfile answered ${r.status}, expected Accepted`);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1, idTag: TAG }, 20000, { since });
    await replyOf(ctx, start);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since });
    const txStart = ms(start.payload.timestamp);
    await waitBusLimit(ctx, { amps: PERIODS[0][1], t0: start.t, what: 'the RemoteStart TxProfile at the transaction start (from StartTransaction)' });

    const limitAt = (t) => {
      if (t >= txStart + PROFILE_S * 1000) return WIRING;
      let v = PERIODS[0][1];
      for (const [p, l] of PERIODS) if (t >= txStart + p * 1000) v = l;
      return v;
    };
    const changes = [...PERIODS.map(([p]) => txStart + p * 1000), txStart + PROFILE_S * 1000];
    for (const unit of ['A', 'W']) {
      const c = await getCompositeSchedule(ctx, { connectorId: 1, duration: DURATION, unit });
      const s = c.r.chargingSchedule;
      check(c.r.connectorId === 1, `GetCompositeSchedule answered for connectorId ${c.r.connectorId}, expected 1`);
      check(s.duration === DURATION, `composite duration ${s.duration}, expected the requested ${DURATION}`);
      check(s.chargingRateUnit === unit, `composite chargingRateUnit ${s.chargingRateUnit}, expected the requested ${unit}`);
      check(typeof s.startSchedule === 'string', `composite without startSchedule: ${JSON.stringify(c.r)}`);
      const dev = ms(s.startSchedule) - c.sentAt;
      check(dev >= -MAX_DEVIATION_MS && ms(s.startSchedule) <= c.answeredAt + MAX_DEVIATION_MS,
        `composite startSchedule ${s.startSchedule} is ${dev} ms from the request (sent ${new Date(c.sentAt).toISOString()}), more than the max deviation of ${MAX_DEVIATION_MS} ms`);
      if (c.r.scheduleStart !== undefined) {
        check(Math.abs(ms(c.r.scheduleStart) - ms(s.startSchedule)) <= MAX_DEVIATION_MS,
          `scheduleStart ${c.r.scheduleStart} and the schedule's startSchedule ${s.startSchedule} differ by more than ${MAX_DEVIATION_MS} ms`);
      }
      const f = unit === 'W' ? VOLTS : 1;
      const expected = compositeOf({ start: ms(s.startSchedule), durationS: DURATION, changes, limitAt: (t) => limitAt(t) * f });
      ctx.log(`expected (transaction started ${start.payload.timestamp}, startSchedule ${s.startSchedule}): ${JSON.stringify(expected)}`);
      checkPeriods(c.periods, expected, `GetCompositeSchedule(connector 1, ${DURATION} s, ${unit}) ${((ms(s.startSchedule) - txStart) / 1000).toFixed(3)} s into the transaction`);
    }
  },
};
