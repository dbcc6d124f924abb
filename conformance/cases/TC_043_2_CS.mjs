// TC_043_2_CS Send Local Authorization List – VersionMismatch.
import { boot, check } from '../lib/steps.mjs';
import { requireLocalList, sendLocalList, listVersion } from '../lib/locallist.mjs';

export default {
  id: 'TC_043_2_CS',
  name: 'Send Local Authorization List - VersionMismatch',
  profile: 'LocalAuthListManagement',
  requirement: 'A differential update must carry a version above the installed one: after Full version 2 and '
    + 'Differential version 5 (both Accepted, GetLocalListVersion 2 then 5), a Differential version 3 is '
    + 'answered VersionMismatch and the list stays version 5 (OCPP 1.6 5.15, 7.42).',
  needs: [],
  async run(ctx) {
    await boot(ctx);
    await requireLocalList(ctx);
    let st = await sendLocalList(ctx, 2, 'Full', [['CT-A', 'Accepted'], ['CT-B', 'Accepted']]);
    check(st === 'Accepted', `SendLocalList Full version 2 answered ${st}`);
    let v = await listVersion(ctx);
    check(v === 2, `listVersion ${v} after version 2, expected 2`);
    st = await sendLocalList(ctx, 5, 'Differential', [['CT-C', 'Accepted'], ['CT-A', null]]);
    check(st === 'Accepted', `SendLocalList Differential version 5 answered ${st}`);
    v = await listVersion(ctx);
    check(v === 5, `listVersion ${v} after version 5, expected 5`);
    st = await sendLocalList(ctx, 3, 'Differential', [['CT-D', 'Accepted']]);
    check(st === 'VersionMismatch', `SendLocalList Differential version 3 over version 5 answered ${st}, expected VersionMismatch`);
    v = await listVersion(ctx);
    check(v === 5, `listVersion ${v} after the refused update, expected 5 still`);
  },
};
