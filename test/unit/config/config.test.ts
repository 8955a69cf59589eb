import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';

describe('loadConfig', () => {
  it('gives laptop defaults with the embedded database', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.PUBLIC_BASE_URL).toBe('http://127.0.0.1:3000');
    expect(config.embeddedPostgres).toBe(true);
    expect(config.NMC_DEMO).toBe(true);
    expect(config.NMC_ROLE).toBe('all');
    expect(config.HOLD_TTL_MINUTES).toBe(15);
    expect(config.OUTBOX_BATCH_SIZE).toBe(100);
    expect(config.RATE_LIMIT_PER_MINUTE).toBe(600);
  });

  it('turns the demo off by default with DATABASE_URL, and strips a trailing slash of PUBLIC_BASE_URL', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/nmc',
      PUBLIC_BASE_URL: 'https://nmc.example.com/',
    });
    expect(config.NMC_DEMO).toBe(false);
    expect(config.embeddedPostgres).toBe(false);
    expect(config.PUBLIC_BASE_URL).toBe('https://nmc.example.com');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ NMC_ROLE: 'boss' }, 'NMC_ROLE'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL'],
    [{ HOLD_TTL_MINUTES: '0' }, 'HOLD_TTL_MINUTES'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 'x'.repeat(32) }, 'TWILIO_ACCOUNT_SID'],
    [{ TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}` }, 'TWILIO_AUTH_TOKEN'],
  ])('stops with one line naming the variable for %o', (env, name) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`${name}:`);
    expect(message).not.toContain('\n');
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});

describe('production settings', () => {
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://u:p@db:5432/nmc',
    PUBLIC_BASE_URL: 'https://nmc.example.com',
    TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'x'.repeat(32),
    STRIPE_SECRET_KEY: 'sk_live_abc',
    STRIPE_WEBHOOK_SECRET: 'whsec_abc',
    AUTH_JWKS_URL: 'https://clerk.example.com/.well-known/jwks.json',
    AUTH_ISSUER: 'https://clerk.example.com',
    AUTH_AUDIENCE: 'nevermisscall',
    AUTH_STAFF_ORG_ID: 'org_platform_real',
    NMC_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  };

  it('starts when every real secret is set', () => {
    expect(loadConfig(production).NODE_ENV).toBe('production');
  });

  it.each([
    'PUBLIC_BASE_URL',
    'TWILIO_AUTH_TOKEN',
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'AUTH_JWKS_URL',
    'AUTH_ISSUER',
    'AUTH_AUDIENCE',
    'AUTH_STAFF_ORG_ID',
    'NMC_ENCRYPTION_KEY',
  ])('refuses to start without %s, in one line naming it', (name) => {
    // Unset the variable (and its pair where the pairing rule would speak first).
    const env: Record<string, string | undefined> = { ...production, [name]: undefined };
    if (name === 'TWILIO_AUTH_TOKEN') env.TWILIO_ACCOUNT_SID = undefined;
    if (name.startsWith('AUTH_') && name !== 'AUTH_STAFF_ORG_ID') {
      env.AUTH_JWKS_URL = undefined;
      env.AUTH_ISSUER = undefined;
      env.AUTH_AUDIENCE = undefined;
    }
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid configuration: [A-Z_]+: required with NODE_ENV=production/);
    expect(message).not.toContain('\n');
  });

  it('takes Google credentials as a pair', () => {
    expect(() => loadConfig({ GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com' })).toThrow(
      /^invalid configuration: GOOGLE_CLIENT_SECRET: /,
    );
    expect(loadConfig({ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret' }).GOOGLE_CLIENT_ID).toBe(
      'id',
    );
  });

  it('runs on sandboxes and the dev issuer outside production', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    expect(config.AUTH_JWKS_URL).toBeUndefined();
    expect(config.TWILIO_AUTH_TOKEN).toBeUndefined();
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['off', false],
    ['2', 2],
    ['10.0.0.0/8, 192.168.1.1', ['10.0.0.0/8', '192.168.1.1']],
    ['::1,fd00::/8', ['::1', 'fd00::/8']],
  ])('reads %s', (value, expected) => {
    expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it.each(['yes please', '11', '10.0.0.0/33', '10.0.0.0/8/1', 'example.com', '-1'])('refuses %s', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/^invalid configuration: TRUST_PROXY:/);
  });
});
