// TC_072_CS Stacking Charging Profiles: a higher stackLevel overrides only while it is valid.
import { boot, requireSmartCharging, chargingProfile, installProfile, getCompositeSchedule, checkPeriods } from '../lib/steps.mjs';

const DURATION = 400;
// Profile 1: TxDefaultProfile, stackLevel 0, 400 s: 0 s 6 A, 100 s 8 A, 200 s 10 A.
const LOW = { stack: 0, duration: 400, periods: [[0, 6], [100, 8], [200, 10]] };
// Profile 2: TxDefaultProfile, stackLevel 1, 150 s. The published case text breaks off before profile 2's
// periods; this case uses 0 s 10 A, 100 s 6 A.
const HIGH = { stack: 1, duration: 150, periods: [[0, 10], [100, 6]] };
// Stack 1 for its 150 s, then stack 0 from where its own schedule is: 0-100 10 | 100-150 6 | 150-200 8 | 200-400 10.
const EXPECTED = [[0, 10], [100, 6], [150, 8], [200, 10]];

export default {
  id: 'TC_072_CS',
  name: 'Stacking Charging Profiles',
  profile: 'SmartCharging',
  requirement: 'Two TxDefaultProfiles for the same connector at stackLevel 0 (400 s) and stackLevel 1 (150 s) are both '
    + 'Accepted, and the composite shows the higher stack level overriding the lower one only while it is valid (the '
    + 'profile with the highest stackLevel in force governs; once its duration has passed the lower one applies, OCPP '
    + '1.6 3.13.2, 3.13.4): with stackLevel 0 '
    + `${JSON.stringify(LOW.periods)} and stackLevel 1 ${JSON.stringify(HIGH.periods)} ([s, A]; the published case text is `
    + 'cut before profile 2\'s periods, so these are the case\'s own), GetCompositeSchedule(connector 1, 400 s) is '
    + `exactly ${JSON.stringify(EXPECTED)}.`,
  needs: [],
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    await requireSmartCharging(ctx);
    await installProfile(ctx, 1, chargingProfile({ id: 721, purpose: 'TxDefaultProfile', kind: 'Relative', ...LOW }));
    await installProfile(ctx, 1, chargingProfile({ id: 722, purpose: 'TxDefaultProfile', kind: 'Relative', ...HIGH }));
    const c = await getCompositeSchedule(ctx, { connectorId: 1, duration: DURATION });
    checkPeriods(c.periods, EXPECTED, `GetCompositeSchedule(connector 1, ${DURATION} s) with TxDefaultProfiles at stackLevel 0 (400 s) and 1 (150 s)`);
  },
};
