import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { chooseLogFormat, createLogger, type LogFormat } from '../../../src/observability/logger.ts';

// A person at a terminal reads lines; a pipe, a file or a collector gets JSON. Either way the
// sanitizer has run before the line is formatted.

function capture(format: LogFormat) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('info', stream, format), output: () => chunks.join('') };
}

describe('log format', () => {
  it.each([
    [undefined, true, 'pretty'],
    [undefined, false, 'json'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('LOG_FORMAT=%s on a terminal=%s → %s', (setting, terminal, expected) => {
    expect(chooseLogFormat(setting, terminal)).toBe(expected);
  });

  it('LOG_FORMAT is pretty or json, unset by default', () => {
    expect(loadConfig({}).LOG_FORMAT).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/^invalid configuration: LOG_FORMAT:/);
  });

  it('pretty: one line with the local time, the level, the message and the key fields, sanitized', () => {
    const { logger, output } = capture('pretty');
    logger.info({ conversation_id: 'c-1', to: '+13105550123' }, 'sms queued for +13105550123');
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: sms queued for /);
    expect(line).toContain('"conversation_id":"c-1"');
    expect(line).not.toContain('3105550123');
    expect(() => JSON.parse(line)).toThrow();
  });

  it('json: one object per line, sanitized', () => {
    const { logger, output } = capture('json');
    logger.info({ conversation_id: 'c-1', caller: '+13105550123' }, 'sms queued');
    const line = JSON.parse(output().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'sms queued', conversation_id: 'c-1' });
    expect(JSON.stringify(line)).not.toContain('3105550123');
  });
});
