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
