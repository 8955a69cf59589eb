import { randomBytes } from 'node:crypto';

// Twilio resource ids are a two-letter type prefix and 32 lowercase hex digits: SM (SMS), MM (MMS),
// CA (call), RQ (API request id), PN (phone number), BN (A2P brand), MG (messaging service),
// QE (A2P campaign), BU (TrustHub bundle). The app stores them as opaque strings; the sandbox and the simulated
// phone only need them to look real and never collide within a run.
export type SidPrefix = 'SM' | 'MM' | 'CA' | 'RQ' | 'AC' | 'PN' | 'BN' | 'MG' | 'QE' | 'BU';

export function newSid(prefix: SidPrefix): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}
