import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Started, startMain, waitForReady } from '../helpers/processes.ts';

// The CLI in a second terminal, as a person uses it: `npm start` runs on ports that are not the
// defaults, and `nmc` is run with nothing but the data directory (which `npm run` would have as
// its default): it finds the server through server.json.

const dataDir = mkdtempSync(join(tmpdir(), 'nmc-cli-'));
const emptyDir = mkdtempSync(join(tmpdir(), 'nmc-cli-empty-'));
let server: Started;
let port: number;

type Run = { code: number | null; stdout: string; stderr: string };

function nmc(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('node', ['src/cli.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NMC_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  port = await freePort();
  server = startMain(
    {
      NMC_DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_PG_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    },
    { npm: true },
  );
  await waitForReady(`http://127.0.0.1:${port}/readyz`, 60_000, server.exited);
}, 90_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    process.kill(-(server.child.pid ?? 0), 'SIGTERM');
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(emptyDir, { recursive: true, force: true });
}, 30_000);

describe('nmc against a server on non-default ports', () => {
  it('the server says where it is in its data directory, without the database password', () => {
    const location = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8'));
    expect(location.api_url).toBe(`http://127.0.0.1:${port}`);
    expect(location.twilio_sandbox_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(location.stripe_sandbox_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(location.database_url).toMatch(/^postgres(ql)?:\/\/postgres@127\.0\.0\.1:\d+\/nevermisscall$/);
  });

  it('phone missed prints the greeting the caller received', async () => {
    const run = await nmc(['phone', 'missed', '--from', '+13105550123']);
    expect(run.stderr).not.toMatch(/error|nmc:/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^missed call CA\w+ from \+13105550123 to \+15005550006$/m);
    expect(run.stdout).toMatch(/^← \+15005550006: Hi, this is .+ sorry we missed your call/im);
  }, 30_000);

  it('phone sms prints the reply the caller received; phone watch follows the texts until Ctrl-C', async () => {
    const watchOutput: string[] = [];
    const watch = spawn('node', ['src/cli.ts', 'phone', 'watch', '--from', '+13105550124'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NMC_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    watch.stdout.on('data', (chunk) => watchOutput.push(chunk.toString()));
    const watchExited = new Promise<number | null>((resolve) => watch.once('exit', (code) => resolve(code)));

    expect((await nmc(['phone', 'missed', '--from', '+13105550124'])).code).toBe(0);
    const sms = await nmc(['phone', 'sms', '--from', '+13105550124', '--body', 'drain cleaning']);
    expect(sms.code).toBe(0);
    expect(sms.stdout).toMatch(/^text SM\w+ from \+13105550124: drain cleaning$/m);
    const replies = sms.stdout.split('\n').filter((line) => line.startsWith('← +15005550006: '));
    expect(replies.length).toBeGreaterThanOrEqual(1);
    // Only what this text brought: the greeting was printed by `phone missed`, not again here.
    expect(sms.stdout).not.toMatch(/sorry we missed your call/i);

    await new Promise((resolve) => setTimeout(resolve, 1_000));
    watch.kill('SIGINT');
    expect(await watchExited).toBe(0);
    const watched = watchOutput.join('');
    expect(watched).toMatch(/^← \+15005550006: Hi, this is .+ sorry we missed your call/im);
    expect(watched).toContain(replies[0]);
  }, 60_000);

  it('token works, and conversations list shows the caller', async () => {
    const token = await nmc(['token']);
    expect(token.code).toBe(0);
    const jwt = token.stdout.trim();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/conversations`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect(res.status).toBe(200);

    const list = await nmc(['conversations', 'list']);
    expect(list.code).toBe(0);
    const line = list.stdout.split('\n').find((l) => l.includes('+13105550123'));
    expect(line).toMatch(/^[0-9a-f-]{36} {2}\+13105550123 {2}open/);
    const id = line?.slice(0, 36) ?? '';

    const show = await nmc(['conversations', 'show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/← assistant +Hi, this is .+ sorry we missed your call/i);

    const takeover = await nmc(['conversations', 'takeover', id]);
    expect(takeover.stdout.trim()).toBe(`takeover: ${id} is now human`);
    const release = await nmc(['conversations', 'release', id]);
    expect(release.stdout.trim()).toBe(`release: ${id} is now open`);

    // The server's log (JSON: not a terminal) follows the conversation by its id, with no number.
    const steps = () =>
      server
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes(`"conversation_id":"${id}"`))
        .map((line) => JSON.parse(line).msg as string);
    const expected = [
      'call missed',
      'sms queued',
      'sms sent',
      'sms delivered',
      'taken over by an operator',
      'released to the assistant',
      'conversation step: MissedCall',
      'conversation step: HumanReleased',
    ];
    for (let i = 0; i < 50 && !expected.every((m) => steps().includes(m)); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(steps()).toEqual(expect.arrayContaining(expected));
    const logLines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.join('\n')).not.toContain('3105550123');
  }, 60_000);

  it('appointments list reads a local day', async () => {
    const run = await nmc(['appointments', 'list', '--day', '2026-12-04']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+ appointments? on 2026-12-04 \(\w+\/\w+\)$/m);
  }, 30_000);

  it('reports rebuild runs beside the server, on its embedded cluster, and counts the calls so far', async () => {
    const run = await nmc(['reports', 'rebuild']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^rebuilt from [1-9]\d* events \(\d+ copied from the outbox\) in \d+\.\d s$/m);
  }, 60_000);

  it('tenants create provisions a business whose number answers; show and reconcile report on it', async () => {
    const created = await nmc([
      'tenants',
      'create',
      '--slug',
      'cli-plumbing',
      '--name',
      'CLI Plumbing',
      '--time-zone',
      'America/New_York',
      '--forwarding-phone',
      '+16465550100',
      '--area-code',
      '646',
    ]);
    expect(created.stderr).not.toMatch(/nmc:/);
    expect(created.code).toBe(0);
    const id = /tenant ([0-9a-f-]{36}) \(cli-plumbing\) created/.exec(created.stdout)?.[1];
    const number = /converged: (\+1646555\d{4})/.exec(created.stdout)?.[1];
    expect(id, created.stdout).toBeDefined();
    expect(number, created.stdout).toBeDefined();
    expect(created.stdout).toMatch(/ten_dlc_campaign\s+done/);

    const missed = await nmc(['phone', 'missed', '--from', '+16465550111', '--to', number ?? '']);
    expect(missed.code).toBe(0);
    expect(missed.stdout).toContain('CLI Plumbing');

    const show = await nmc(['tenants', 'show', id ?? '']);
    expect(show.stdout).toContain(`number ${number}`);
    expect(show.stdout).toMatch(/desired v1 active, converged/);

    const reconcile = await nmc(['reconcile', '--dry-run']);
    expect(reconcile.code).toBe(0);
    expect(reconcile.stdout).toMatch(/^KIND\s+FOUND\s+REPAIRED\s+FAILED$/m);
    expect(reconcile.stdout).toMatch(/1 provisioned tenant\(s\) scanned, 0 drift finding\(s\) \(dry run\)/);
  }, 90_000);

  it('--help lists every command; each command has its own --help', async () => {
    const help = await nmc(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'phone missed --from <e164>',
      'phone sms --from <e164>',
      'phone watch --from <e164>',
      'conversations list',
      'conversations show <id>',
      'conversations takeover <id>',
      'conversations release <id>',
      'conversations close <id>',
      'conversations send <id> --body <text>',
      'appointments list [--day <date>]',
      'token [--staff]',
      'dead-letters list',
      'dead-letters replay',
      'migrate',
      'tenants create --slug <slug>',
      'tenants show <id>',
      'tenants converge <id>',
      'tenants close <id>',
      'reconcile [--tenant <id>] [--dry-run]',
    ]) {
      expect(help.stdout).toContain(`nmc ${command}`);
    }
    const phoneHelp = await nmc(['phone', 'missed', '--help']);
    expect(phoneHelp.code).toBe(0);
    expect(phoneHelp.stdout).toContain('--from <e164>');
  });

  it('bad input is an error with a non-zero exit', async () => {
    const badPhone = await nmc(['phone', 'missed', '--from', '555']);
    expect(badPhone.code).not.toBe(0);
    expect(badPhone.stderr).toContain('"555" is not a valid phone number');
    expect(badPhone.stdout).toBe('');
    const noFrom = await nmc(['phone', 'sms', '--body', 'hi']);
    expect(noFrom.code).not.toBe(0);
    const unknown = await nmc(['conversations', 'frobnicate']);
    expect(unknown.code).not.toBe(0);
    const badDay = await nmc(['appointments', 'list', '--day', '2026-13-40']);
    expect(badDay.code).not.toBe(0);
  });

  it('an unreachable server is one line naming the URL tried and how to start one', async () => {
    const unused = await freePort();
    const viaUrl = await nmc([
      'phone',
      'missed',
      '--from',
      '+13105550123',
      '--url',
      `http://127.0.0.1:${unused}`,
    ]);
    expect(viaUrl.code).toBe(1);
    expect(viaUrl.stderr.trim().split('\n')).toHaveLength(1);
    expect(viaUrl.stderr).toContain(`http://127.0.0.1:${unused}`);
    expect(viaUrl.stderr).toContain('npm start');

    const noServer = await nmc(['conversations', 'list'], { NMC_DATA_DIR: emptyDir, PORT: String(unused) });
    expect(noServer.code).toBe(1);
    expect(noServer.stderr.trim().split('\n')).toHaveLength(1);
    expect(noServer.stderr).toContain(`http://127.0.0.1:${unused}`);
    expect(noServer.stderr).toContain('npm start');
  }, 30_000);

  it('a clean stop removes server.json', async () => {
    expect(existsSync(join(dataDir, 'server.json'))).toBe(true);
    process.kill(-(server.child.pid ?? 0), 'SIGTERM');
    await server.exited;
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  }, 30_000);
});
