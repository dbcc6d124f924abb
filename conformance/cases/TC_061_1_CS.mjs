// TC_061_1_CS Clear Authorization Cache – local start needs Authorize again after ClearCache.
import { boot, check, fixedSession, FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_061_1_CS',
  name: 'Clear Authorization Cache - Local',
  requirement: 'With the authorization cache enabled, an idTag accepted in one session is cached. ClearCache is '
    + 'Accepted and empties the cache, so the next local start with the same idTag must be authorised with the '
    + 'central system again: Authorize (Accepted) before StartTransaction (OCPP 1.6 3.5.1, 5.4).',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { AuthorizationCacheEnabled: true, LocalPreAuthorize: true },
  },
  timeoutMs: 100000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const first = await fixedSession(ctx);
    check(first.auth.length > 0, 'the first session (empty cache) started without Authorize');
    const r = await csms.call('ClearCache', {});
    check(r.status === 'Accepted', `ClearCache answered ${r.status}, expected Accepted`);
    const second = await fixedSession(ctx);
    check(second.auth.length > 0, `after ClearCache the idTag was not authorised again: StartTransaction without a preceding Authorize: ${csms.fmt(second.start)}`);
  },
};
