// TC_043_CS Send Local Authorization List.
import { boot, check, fixedSession, FIXED_TAG } from '../lib/steps.mjs';
import { requireLocalList, sendLocalList, listVersion } from '../lib/locallist.mjs';

export default {
  id: 'TC_043_CS',
  name: 'Send Local Authorization List',
  profile: 'LocalAuthListManagement',
  requirement: 'SendLocalList with updateType Full and then Differential (a higher version) are both Accepted; '
    + 'GetLocalListVersion then reports the last version, and an idTag on the list is authorised from it: with '
    + 'LocalPreAuthorize true and the cache off, a local start with it needs no Authorize (OCPP 1.6 5.15, 3.5.2).',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { AuthorizationCacheEnabled: false, LocalPreAuthorize: true },
  },
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx);
    await requireLocalList(ctx);
    let st = await sendLocalList(ctx, 1, 'Full', [['CT-OTHER-0001', 'Accepted']]);
    check(st === 'Accepted', `SendLocalList Full version 1 answered ${st}, expected Accepted`);
    st = await sendLocalList(ctx, 2, 'Differential', [[FIXED_TAG, 'Accepted']]);
    check(st === 'Accepted', `SendLocalList Differential version 2 answered ${st}, expected Accepted`);
    const v = await listVersion(ctx);
    check(v === 2, `GetLocalListVersion answered ${v} after version 2 was installed`);
    const s = await fixedSession(ctx);
    check(s.auth.length === 0, `an idTag on the Local Authorization List was sent to Authorize: ${ctx.csms.fmt(s.auth[0] || {})}`);
  },
};
