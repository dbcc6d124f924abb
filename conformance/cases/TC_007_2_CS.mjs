// TC_007_2_CS Remote Start Charging Session – Cached Id.
import { boot, check, remoteSession } from '../lib/steps.mjs';

export default {
  id: 'TC_007_2_CS',
  name: 'Remote Start Charging Session - Cached Id',
  requirement: 'With AuthorizeRemoteTxRequests, AuthorizationCacheEnabled and LocalPreAuthorize true, a remote '
    + 'start is treated like a local one: the first time its idTag is checked with Authorize; once the idTag is '
    + 'in the cache, the next remote start with it begins without an Authorize round-trip (OCPP 1.6 5.11, 3.5.1).',
  needs: ['stimulus'],
  config: { keys: { AuthorizeRemoteTxRequests: true, AuthorizationCacheEnabled: true, LocalPreAuthorize: true } },
  timeoutMs: 90000,
  async run(ctx) {
    await boot(ctx);
    const first = await remoteSession(ctx);
    check(first.auth.length > 0, 'AuthorizeRemoteTxRequests is true but the first remote start (empty cache) sent no Authorize');
    const second = await remoteSession(ctx);
    check(second.auth.length === 0, `the cached idTag was authorised again on the second remote start: ${ctx.csms.fmt(second.auth[0])}`);
  },
};
