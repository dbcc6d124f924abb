// TC_007_1_CS Regular Start Charging Session – Cached Id.
import { boot, check, fixedSession, FIXED_TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_007_1_CS',
  name: 'Regular Start Charging Session - Cached Id',
  requirement: 'With AuthorizationCacheEnabled and LocalPreAuthorize true, an idTag the central system accepted '
    + 'earlier is in the authorization cache; the next local start with it begins at once: StartTransaction with '
    + 'no Authorize round-trip before it (OCPP 1.6 3.5.1, 9.1.11).',
  needs: ['stimulus', 'local'],
  config: {
    ocpp: { idTag: { source: 'fixed', fixed: FIXED_TAG } },
    keys: { AuthorizationCacheEnabled: true, LocalPreAuthorize: true },
  },
  timeoutMs: 90000,
  async run(ctx) {
    await boot(ctx);
    const first = await fixedSession(ctx);
    check(first.auth.length > 0, 'the first session (empty cache) started without Authorize');
    const second = await fixedSession(ctx);
    check(second.auth.length === 0, `the cached idTag was authorised again before StartTransaction: ${ctx.csms.fmt(second.auth[0])}`);
  },
};
