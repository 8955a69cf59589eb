import { describe, expect, it } from 'vitest';
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

  it('keeps ordinary fields readable', () => {
    const { logger, lines } = captureLogger();
    logger.info({ tenant_id: '8c5d3a0e-1111-4222-8333-944444444444', status: 201, ms: 12 }, 'request');
    expect(lines()[0]).toContain('8c5d3a0e-1111-4222-8333-944444444444');
    expect(lines()[0]).toContain('"status":201');
  });
});
