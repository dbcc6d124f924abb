// TC_043_3_CS Send Local Authorization List – Failed.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { boot, check } from '../lib/steps.mjs';
import { requireLocalList, sendLocalList, listVersion } from '../lib/locallist.mjs';

export default {
  id: 'TC_043_3_CS',
  name: 'Send Local Authorization List - Failed',
  profile: 'LocalAuthListManagement',
  requirement: 'A charge point that cannot install a list answers SendLocalList Failed (OCPP 1.6 7.42) and keeps '
    + 'the list in force. The failure is made real: twcgw\'s list file in dataDir is replaced by a directory, so '
    + 'the list cannot be saved; a Full version 2 is then Failed and GetLocalListVersion still says 1. Once the '
    + 'file can be written again the same update is Accepted.',
  needs: ['local'],
  async run(ctx) {
    await boot(ctx);
    await requireLocalList(ctx);
    let st = await sendLocalList(ctx, 1, 'Full', [['CT-A', 'Accepted']]);
    check(st === 'Accepted', `SendLocalList Full version 1 answered ${st}`);
    const file = path.join(ctx.sut.dataDir, 'ocpp-local-list.json');
    rmSync(file, { force: true });
    mkdirSync(path.join(file, 'blocker'), { recursive: true });
    st = await sendLocalList(ctx, 2, 'Full', [['CT-B', 'Accepted']]);
    check(st === 'Failed', `SendLocalList answered ${st} although the list cannot be saved, expected Failed`);
    let v = await listVersion(ctx);
    check(v === 1, `listVersion ${v} after the failed update, expected 1 (the list in force)`);
    rmSync(file, { recursive: true, force: true });
    st = await sendLocalList(ctx, 2, 'Full', [['CT-B', 'Accepted']]);
    check(st === 'Accepted', `SendLocalList answered ${st} once the list can be saved again`);
    v = await listVersion(ctx);
    check(v === 2, `listVersion ${v}, expected 2`);
  },
};
