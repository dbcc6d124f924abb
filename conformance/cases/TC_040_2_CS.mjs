// TC_040_2_CS Configuration Keys – Invalid value.
import { boot, check, changeConfiguration, getConfiguration } from '../lib/steps.mjs';

export default {
  id: 'TC_040_2_CS',
  name: 'Configuration keys - invalid value',
  requirement: 'ChangeConfiguration of a supported key with a value that is not valid for it (a non-number for '
    + 'the integer MeterValueSampleInterval, a non-boolean for a boolean key) is answered Rejected and the '
    + 'value is left unchanged (OCPP 1.6 5.3).',
  needs: [],
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    const before = (await getConfiguration(ctx, ['MeterValueSampleInterval', 'LocalPreAuthorize']));
    const st = await changeConfiguration(ctx, 'MeterValueSampleInterval', 'not-a-number');
    check(st === 'Rejected', `ChangeConfiguration MeterValueSampleInterval="not-a-number" answered ${st}, expected Rejected`);
    const st2 = await changeConfiguration(ctx, 'LocalPreAuthorize', 'maybe');
    check(st2 === 'Rejected', `ChangeConfiguration LocalPreAuthorize="maybe" answered ${st2}, expected Rejected`);
    const after = (await getConfiguration(ctx, ['MeterValueSampleInterval', 'LocalPreAuthorize']));
    for (const k of ['MeterValueSampleInterval', 'LocalPreAuthorize']) {
      check(after.get(k)?.value === before.get(k)?.value, `${k} changed from ${before.get(k)?.value} to ${after.get(k)?.value} after a Rejected ChangeConfiguration`);
    }
  },
};
