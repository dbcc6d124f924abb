// TC_042_2_CS Get Local List Version (empty).
import { boot, check } from '../lib/steps.mjs';
import { requireLocalList, listVersion } from '../lib/locallist.mjs';

export default {
  id: 'TC_042_2_CS',
  name: 'Get Local List Version (empty)',
  profile: 'LocalAuthListManagement',
  requirement: 'A charge point with the Local Auth List Management profile and no list installed answers '
    + 'GetLocalListVersion with listVersion 0 (OCPP 1.6 5.9: 0 means the list is empty).',
  needs: ['local'],
  async run(ctx) {
    await boot(ctx, { fresh: true });
    await requireLocalList(ctx);
    const v = await listVersion(ctx);
    check(v === 0, `GetLocalListVersion answered listVersion ${v} on a charge point that never got a list, expected 0`);
  },
};
