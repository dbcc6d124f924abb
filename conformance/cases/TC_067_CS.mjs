// TC_067_CS Clear Charging Profile: by id, by purpose, by stackLevel, each checked with GetCompositeSchedule.
import {
  check, boot, requireSmartCharging, chargingProfile, installProfile, clearChargingProfile, getCompositeSchedule,
  checkPeriods,
} from '../lib/steps.mjs';

const DURATION = 400;
const WIRING = 32;
// The OCTT profile: TxDefaultProfile, stackLevel 1, 400 s: 0 s 6 A, 60 s 8 A, 200 s 10 A (Relative, so that with
// no transaction it starts at the request and its periods show at their own offsets).
const PERIODS = [[0, 6], [60, 8], [200, 10]];
const txDefault = (id = 671) => chargingProfile({ id, stack: 1, purpose: 'TxDefaultProfile', kind: 'Relative', duration: DURATION, periods: PERIODS });
// Bystanders that a clear must leave alone: a ChargePointMaxProfile (20 A) and a TxDefaultProfile at stackLevel 0 (16 A).
const CP_MAX = 20;
const LOW_STACK = 16;

// A schedule with every limit capped, equal neighbours merged.
function capped(periods, cap) {
  const out = [];
  for (const [s, l] of periods) {
    const v = Math.min(l, cap);
    if (!out.length || out.at(-1)[1] !== v) out.push([s, v]);
  }
  return out;
}

export default {
  id: 'TC_067_CS',
  name: 'Clear Charging Profile',
  profile: 'SmartCharging',
  requirement: 'ClearChargingProfile removes exactly the profiles its criteria select and answers Accepted, or Unknown '
    + 'when nothing matches (by id, or by every given criterion of connectorId, chargingProfilePurpose and stackLevel, '
    + 'OCPP 1.6 5.5, 6.11, 7.12). With a TxDefaultProfile (stackLevel 1, 400 s, periods '
    + `${JSON.stringify(PERIODS)} [s, A]) on connector 1, GetCompositeSchedule(connector 1, ${DURATION} s) shows those periods; `
    + 'after clearing it by id it shows the schedule without profiles again (twcgw: the 32 A wiring), and clearing the '
    + 'same id again is Unknown; cleared by purpose TxDefaultProfile, a ChargePointMaxProfile of 20 A stays and '
    + 'caps the composite; cleared by stackLevel 1, a TxDefaultProfile at stackLevel 0 (16 A) stays and governs it.',
  needs: [],
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    await requireSmartCharging(ctx);
    const composite = async () => (await getCompositeSchedule(ctx, { connectorId: 1, duration: DURATION })).periods;
    const none = await composite();
    if (ctx.mode === 'local') checkPeriods(none, [[0, WIRING]], `GetCompositeSchedule(connector 1, ${DURATION} s) with no profile installed`);

    // 1. By id.
    await installProfile(ctx, 1, txDefault(671));
    checkPeriods(await composite(), PERIODS, 'the composite with the TxDefaultProfile (id 671, stackLevel 1) installed');
    let st = await clearChargingProfile(ctx, { id: 671 });
    check(st === 'Accepted', `ClearChargingProfile {id: 671} answered ${st}, expected Accepted`);
    checkPeriods(await composite(), none, 'the composite after ClearChargingProfile {id: 671} (as with no profile)');
    st = await clearChargingProfile(ctx, { id: 671 });
    check(st === 'Unknown', `ClearChargingProfile {id: 671} a second time (nothing left with that id) answered ${st}, expected Unknown`);

    // 2. By purpose: the ChargePointMaxProfile stays.
    await installProfile(ctx, 0, chargingProfile({ id: 672, stack: 0, purpose: 'ChargePointMaxProfile', startSchedule: Date.now(), periods: [[0, CP_MAX]] }));
    await installProfile(ctx, 1, txDefault(673));
    checkPeriods(await composite(), capped(PERIODS, CP_MAX), `the composite with the TxDefaultProfile (id 673) under a ${CP_MAX} A ChargePointMaxProfile`);
    st = await clearChargingProfile(ctx, { chargingProfilePurpose: 'TxDefaultProfile' });
    check(st === 'Accepted', `ClearChargingProfile {chargingProfilePurpose: TxDefaultProfile} answered ${st}, expected Accepted`);
    checkPeriods(await composite(), capped(none, CP_MAX), `the composite after clearing purpose TxDefaultProfile (the ${CP_MAX} A ChargePointMaxProfile stays)`);
    st = await clearChargingProfile(ctx, { id: 672 });
    check(st === 'Accepted', `ClearChargingProfile {id: 672} (the ChargePointMaxProfile) answered ${st}, expected Accepted`);
    checkPeriods(await composite(), none, 'the composite after clearing the ChargePointMaxProfile too');

    // 3. By stackLevel: the stackLevel 0 profile stays.
    await installProfile(ctx, 1, chargingProfile({ id: 674, stack: 0, purpose: 'TxDefaultProfile', kind: 'Relative', periods: [[0, LOW_STACK]] }));
    await installProfile(ctx, 1, txDefault(675));
    checkPeriods(await composite(), PERIODS, 'the composite with TxDefaultProfiles at stackLevel 1 (id 675) and 0 (id 674, 16 A): stackLevel 1 governs');
    st = await clearChargingProfile(ctx, { stackLevel: 1 });
    check(st === 'Accepted', `ClearChargingProfile {stackLevel: 1} answered ${st}, expected Accepted`);
    checkPeriods(await composite(), [[0, LOW_STACK]], `the composite after clearing stackLevel 1 (the ${LOW_STACK} A profile at stackLevel 0 stays)`);
    st = await clearChargingProfile(ctx, {});
    check(st === 'Accepted', `ClearChargingProfile {} (all; the stackLevel 0 profile is left) answered ${st}, expected Accepted`);
    checkPeriods(await composite(), none, 'the composite after clearing every profile');
  },
};
