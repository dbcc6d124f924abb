// TC_008_2_CS Remote Start Charging Session – Id in Local Authorization List.
import { boot, check, remoteSession, TAG } from '../lib/steps.mjs';
import { requireLocalList, sendLocalList } from '../lib/locallist.mjs';

export default {
  id: 'TC_008_2_CS',
  name: 'Remote Start Charging Session - Id in Local Authorization List',
  profile: 'LocalAuthListManagement',
  requirement: 'With AuthorizeRemoteTxRequests, LocalAuthListEnabled and LocalPreAuthorize true, a remote start '
    + 'for an idTag that is Accepted on the Local Authorization List needs no Authorize: StartTransaction follows '
    + 'directly (OCPP 1.6 5.11, 3.5.2). The cache is off, so only the list can have authorised it.',
  needs: ['stimulus'],
  config: { keys: { AuthorizeRemoteTxRequests: true, AuthorizationCacheEnabled: false, LocalPreAuthorize: true } },
  timeoutMs: 60000,
  async run(ctx) {
    await boot(ctx);
    await requireLocalList(ctx);
    const st = await sendLocalList(ctx, 1, 'Full', [[TAG, 'Accepted']]);
    check(st === 'Accepted', `SendLocalList answered ${st}`);
    const s = await remoteSession(ctx);
    check(s.auth.length === 0, `a remote start for an idTag on the list was sent to Authorize: ${ctx.csms.fmt(s.auth[0] || {})}`);
  },
};
