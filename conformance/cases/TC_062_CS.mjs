// TC_062_CS Data Transfer to a Charge Point: unknown vendorId.
import { boot, check } from '../lib/steps.mjs';

export default {
  id: 'TC_062_CS',
  name: 'Data Transfer to a Charge Point',
  requirement: 'DataTransfer from the central system with a vendorId the charge point has no implementation for '
    + 'is answered with status UnknownVendorId ("If the recipient of the request has no implementation for the '
    + 'specific vendorId it SHALL return a status UnknownVendor", OCPP 1.6 5.5).',
  needs: [],
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    const r = await ctx.csms.call('DataTransfer', { vendorId: 'org.example.conformance.unknown', messageId: 'CT', data: 'x' });
    check(r.status === 'UnknownVendorId', `DataTransfer with an unknown vendorId answered ${r.status}, expected UnknownVendorId`);
  },
};
