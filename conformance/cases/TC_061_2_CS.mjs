// TC_061_2_CS Clear Authorization Cache – remote start needs Authorize again after ClearCache.
import { boot, check, remoteSession } from '../lib/steps.mjs';

export default {
  id: 'TC_061_2_CS',
  name: 'Clear Authorization Cache - Remote',
  requirement: 'With AuthorizeRemoteTxRequests and the authorization cache enabled, a remote start\'s idTag is '
    + 'cached after its Authorize. ClearCache is Accepted and empties the cache, so the next remote start with '
    + 'the same idTag is authorised with the central system again (OCPP 1.6 3.5.1, 5.4, 5.11).',
  needs: ['stimulus'],
  config: { keys: { AuthorizeRemoteTxRequests: true, AuthorizationCacheEnabled: true, LocalPreAuthorize: true } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const first = await remoteSession(ctx);
    check(first.auth.length > 0, 'AuthorizeRemoteTxRequests is true but the remote start sent no Authorize');
    const r = await csms.call('ClearCache', {});
    check(r.status === 'Accepted', `ClearCache answered ${r.status}, expected Accepted`);
    const second = await remoteSession(ctx);
    check(second.auth.length > 0, `after ClearCache the remote start's idTag was not authorised again: ${csms.fmt(second.start)}`);
  },
};
