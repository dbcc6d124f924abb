// TC_040_1_CS Configuration Keys – NotSupported.
import { boot, check, changeConfiguration } from '../lib/steps.mjs';

export default {
  id: 'TC_040_1_CS',
  name: 'Configuration keys are not supported',
  requirement: 'ChangeConfiguration of a key the charge point does not know is answered NotSupported '
    + '(OCPP 1.6 5.3).',
  needs: [],
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    const st = await changeConfiguration(ctx, 'NoSuchKeyCT', '1');
    check(st === 'NotSupported', `ChangeConfiguration of the unknown key NoSuchKeyCT answered ${st}, expected NotSupported`);
  },
};
