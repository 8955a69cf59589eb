import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  readServerLocation,
  removeServerLocation,
  type ServerLocation,
  serverLocationFile,
  withoutPassword,
  writeServerLocation,
} from '../../../src/server-location.ts';

const dir = mkdtempSync(join(tmpdir(), 'nmc-location-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const location = (pid: number): ServerLocation => ({
  api_url: 'http://127.0.0.1:4000',
  public_base_url: 'http://127.0.0.1:4000',
  twilio_sandbox_url: 'http://127.0.0.1:4001',
  stripe_sandbox_url: null,
  database_url: withoutPassword('postgres://postgres:s3cr%40t@127.0.0.1:55000/nevermisscall'),
  pid,
  started_at: '2026-12-03T10:00:00.000Z',
});

describe('server location file', () => {
  it('keeps the database URL without its password', () => {
    expect(location(1).database_url).toBe('postgres://postgres@127.0.0.1:55000/nevermisscall');
  });

  it('is read back as written, and only the process that wrote it removes it', async () => {
    expect(await readServerLocation(dir)).toBeNull();
    await writeServerLocation(dir, location(111));
    expect(await readServerLocation(dir)).toEqual(location(111));
    // A second server that failed to start (busy port) must not remove the running one's file.
    removeServerLocation(dir, 222);
    expect(existsSync(serverLocationFile(dir))).toBe(true);
    removeServerLocation(dir, 111);
    expect(existsSync(serverLocationFile(dir))).toBe(false);
    expect(await readServerLocation(dir)).toBeNull();
  });
});
