// TC_008_1_CS Regular Start Charging Session – Id in Local Authorization List.
import { boot, check, fixedSession, FIXED_TAG } from '../lib/steps.mjs';
import { requireLocalList, sendLocalList } from '../lib/locallist.mjs';

export default {
  id: 'TC_008_1_CS',
  name: 'Regular Start Charging Session - Id in Local Authorization List',
  profile: 'LocalAuthListManagement',
  requirement: 'With LocalAuthListEnabled and LocalPreAuthorize true, an idTag that is Accepted on the Local '
    + 'Authorization List starts a local session at once: StartTransaction with no Authorize before it, then '
    + 'Charging (OCPP 1.6 3.5.2, 9.1.12). The cache is off, so only the list can have authorised it.',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { AuthorizationCacheEnabled: false, LocalPreAuthorize: true },
  },
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx);
    await requireLocalList(ctx);
    const st = await sendLocalList(ctx, 1, 'Full', [[FIXED_TAG, 'Accepted']]);
    check(st === 'Accepted', `SendLocalList answered ${st}`);
    const s = await fixedSession(ctx);
    check(s.auth.length === 0, `an idTag on the Local Authorization List was sent to Authorize: ${ctx.csms.fmt(s.auth[0] || {})}`);
    check(s.start.payload.idTag === FIXED_TAG, `StartTransaction idTag ${s.start.payload.idTag}, expected ${FIXED_TAG}`);
  },
};
