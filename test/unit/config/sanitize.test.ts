import { describe, expect, it } from 'vitest';
import { sanitize, sanitizeString } from '../../../src/observability/sanitize.ts';
import { captureLogger } from '../../helpers/logs.ts';

describe('log sanitizing', () => {
  it('redacts phone numbers, bodies, tokens and signatures by key and by pattern', () => {
    const { logger, lines } = captureLogger();
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
    logger.info(
      {
        from: '+13105551212',
        body: 'my drain is clogged, call me at 310-555-1212',
        headers: { authorization: `Bearer ${jwt}`, 'x-twilio-signature': 'abc123=' },
        nested: { note: 'caller +13105551212 wrote again', stoken: 'st_abcdef' },
        apiKey: 'sk_test_1234567890abcdef',
      },
      'inbound from +13105551212 with token %s',
      jwt,
    );
    logger.error({ err: new Error('Twilio rejected +13105551213') }, 'send failed');
    const output = lines().join('\n');
    expect(output).not.toMatch(/310.?555.?121[23]/);
    expect(output).not.toContain('clogged');
    expect(output).not.toContain(jwt);
    expect(output).not.toContain('eyJ');
    expect(output).not.toContain('abc123=');
    expect(output).not.toContain('st_abcdef');
    expect(output).not.toContain('sk_test_1234567890abcdef');
    expect(output).toContain('[redacted]');
    expect(output).toContain('[phone]');
    expect(lines()).toHaveLength(2);
  });

  it("redacts Google's OAuth tokens inside any string (a revoke URL, an error message)", () => {
    const { logger, lines } = captureLogger();
    logger.warn(
      { url: 'https://oauth2.googleapis.com/revoke?token=1//0gAbCdEfGhIjKlMnOp-qrstuvwxyz' },
      'google answered for ya29.a0AfB_byC-123.abc',
    );
    const output = lines().join('\n');
    expect(output).not.toContain('0gAbCdEfGhIjKlMnOp');
    expect(output).not.toContain('a0AfB_byC');
    expect(output).toContain('[redacted]');
  });

  it('keeps ordinary fields readable', () => {
    const { logger, lines } = captureLogger();
    logger.info({ tenant_id: '8c5d3a0e-1111-4222-8333-944444444444', status: 201, ms: 12 }, 'request');
    expect(lines()[0]).toContain('8c5d3a0e-1111-4222-8333-944444444444');
    expect(lines()[0]).toContain('"status":201');
  });
});

describe('bare digit runs', () => {
  const sanitized = (value: unknown) => JSON.stringify(sanitize(value));

  it('redacts a run of 7 or more digits in any string, and the E.164 forms', () => {
    for (const text of [
      'Twilio rejected 3105551212',
      'duplicate (3105551212)',
      'caller=13105551212&x=1',
      'local 5551212.',
      'the number 447911123456',
      'encoded %2B13105551212 in a URL',
      'tel%3A3105551212 and a%2C5551212',
      'plus +13105551212 and +44 7911 123456',
    ]) {
      const out = sanitizeString(text);
      expect(out, text).not.toMatch(/\d{7}/);
      expect(out, text).not.toMatch(/7911|5551212/);
    }
    expect(sanitizeString('Twilio rejected 3105551212')).toBe('Twilio rejected [number]');
  });

  it('in every string field, nested, in arrays and in error fields', () => {
    const err = Object.assign(new Error('insert failed'), {
      code: '23505',
      detail: 'Key (tenant_id, phone)=(8c5d3a0e-1111-4222-8333-944444444444, 3105551212) already exists.',
      where: 'SQL function "f" line 3 at 3105551213',
      cause: new Error('first seen 3105551214'),
    });
    const out = sanitized({ a: { b: ['x 3105551215 y'] }, err });
    expect(out).not.toMatch(/310555121/);
    expect(out).toContain('23505');
    expect(out).toContain('8c5d3a0e-1111-4222-8333-944444444444');
    expect(out).toContain('already exists');
  });

  it('keeps what is needed and not personal: UUIDs, timestamps, ids, short numbers, numeric fields', () => {
    const kept = [
      '8c5d3a0e-1111-4222-8333-944444444444',
      '00000000-0000-0000-0000-000000000000',
      '2026-12-03T09:26:36.123456789Z',
      '2026-12-03T09:26:36.1234567+01:00',
      '2026-12-03 09:26:36.1234567+00',
      'CA1234567890abcdef1234567890abcdef',
      'SM00000000000000000000000000000001',
      'cus_1234567890',
      'evt_1Abc2345678',
      'timer:5b0e3c1a-6a59-4c2e-9d3e-2f6f8d1b7a40',
      'sha 0123456789abcdef0123456789abcdef01234567',
      'took 1500 ms, retry 3 of 6, port 54329, HTTP 503',
    ];
    for (const text of kept) expect(sanitizeString(text), text).toBe(text);
    expect(sanitize({ ms: 12_345_678, status: 201, time: 1_796_290_690_719 })).toEqual({
      ms: 12_345_678,
      status: 201,
      time: 1_796_290_690_719,
    });
  });

  it('in time linear in the length (a long run of digits and underscores took 0.4 s per 20 kB)', () => {
    const long = '123456_'.repeat(6_000);
    const started = performance.now();
    expect(sanitizeString(long)).toBe(long);
    // Quadratic backtracking takes well over a second here; linear takes about a millisecond.
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('through the logger: a message, a formatted argument and an error', () => {
    const { logger, lines } = captureLogger();
    logger.info(
      { correlation_id: '5b0e3c1a-6a59-4c2e-9d3e-2f6f8d1b7a40', ms: 12 },
      'send to 3105551212 failed',
    );
    logger.warn('retrying %s', 'caller 3105551212');
    logger.error({ err: Object.assign(new Error('boom'), { detail: '(3105551212)' }) }, 'failed');
    const output = lines().join('\n');
    expect(output).not.toContain('3105551212');
    expect(output).toContain('5b0e3c1a-6a59-4c2e-9d3e-2f6f8d1b7a40');
    expect(output).toContain('"ms":12');
    expect(output).toContain('[number]');
  });
});
