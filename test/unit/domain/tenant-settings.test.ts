import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLY_DELAY_SECONDS, readTenantSettings } from '../../../src/domain/tenant-settings.ts';

// The dialogue's tenant settings: trade, locale and the burst delay, with defaults for anything
// missing or invalid (a bad value never breaks the conversation).

describe('readTenantSettings (dialogue settings)', () => {
  it('defaults: plumbing, en-US, the default reply delay', () => {
    expect(readTenantSettings({})).toMatchObject({
      trade: 'plumbing',
      locale: 'en-US',
      replyDelaySeconds: DEFAULT_REPLY_DELAY_SECONDS,
    });
  });

  it('reads valid values', () => {
    expect(readTenantSettings({ trade: 'hvac', locale: 'en-GB', reply_delay_seconds: 0 })).toMatchObject({
      trade: 'hvac',
      locale: 'en-GB',
      replyDelaySeconds: 0,
    });
  });

  it.each([
    { trade: 'roofing' },
    { locale: 'english' },
    { locale: '__proto__' },
    { reply_delay_seconds: -1 },
    { reply_delay_seconds: 61 },
    { reply_delay_seconds: 1.5 },
    { reply_delay_seconds: '4' },
  ])('falls back to the default for %o', (raw) => {
    expect(readTenantSettings(raw)).toMatchObject({
      trade: 'plumbing',
      locale: 'en-US',
      replyDelaySeconds: DEFAULT_REPLY_DELAY_SECONDS,
    });
  });
});

describe('readTenantSettings (business hours)', () => {
  it('takes hours for some days only (the other days are closed)', () => {
    const hours = { '1': [{ start: '08:00', end: '09:00' }] };
    expect(readTenantSettings({ business_hours: hours }).businessHours).toEqual(hours);
  });
});
