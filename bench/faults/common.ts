import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { parseE164 } from '../../src/domain/phone.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { postSignedForm, type WebhookResponse } from '../../src/providers/twilio/sandbox/signed-form-post.ts';
import { signTwilioRequest } from '../../src/providers/twilio/signature.ts';
import { type System, startSystem } from '../../src/system.ts';
import { freePort } from '../../test/helpers/processes.ts';
import type { FaultsCluster } from './cluster.ts';

// Shared by the fault scenarios: ports, waiting, a seeded random source, caller numbers, the log
// files every system of the run writes to, and the secrets (numbers, bodies, tokens, signatures)
// the log scan looks for afterwards.

export type Verdict = 'PASS' | 'FAIL' | 'SKIPPED' | 'ERROR';

export type ScenarioResult = {
  scenario: string;
  verdict: Verdict;
  /** Short "name = value" figures for the table. */
  figures: string[];
  /** Longer findings (each a line) for the notes under the table. */
  findings: string[];
  durationMs: number;
};

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitUntil<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T | undefined> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) return undefined;
    await sleep(intervalMs);
  }
}

/** mulberry32: a small seeded PRNG, so fuzz inputs and backoff draws are the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// Secrets the log scan searches for. Every scenario registers what it sends.

export type SecretKind = 'phone' | 'body' | 'token' | 'signature';
export const secrets = new Map<string, SecretKind>();

export function rememberSecret(value: string, kind: SecretKind): void {
  if (value.length >= 6) secrets.set(value, kind);
}

/** Distinct valid US caller numbers: area code + a seeded walk; registered as secrets. */
export function callerNumbers(areaCode: string, count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const out = new Set<string>();
  while (out.size < count) {
    const exchange = 200 + Math.floor(random() * 700);
    const line = String(Math.floor(random() * 10_000)).padStart(4, '0');
    const candidate = `+1${areaCode}${exchange}${line}`;
    if (parseE164(candidate) === candidate) out.add(candidate);
  }
  for (const n of out) rememberSecret(n, 'phone');
  return [...out];
}

/** A hex id with a Twilio-style prefix (CA…, SM…): 32 hex digits. */
export function twilioSid(prefix: 'CA' | 'SM' | 'MM'): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------------
// Logs: one file per system; all are scanned at the end.

export type RunContext = {
  /** .data/faults-pg/<pid>: everything of this run, removed at the end. */
  runDir: string;
  logDir: string;
  logFiles: string[];
  /** A postgres:// URL of a fresh, empty database on the run's cluster. */
  database(label: string): Promise<string>;
  serverVersion: string;
  deadlineAt: number;
  remainingMs(): number;
  cluster: FaultsCluster;
};

export function fileLogger(
  ctx: RunContext,
  name: string,
  level = 'info',
): { logger: Logger; close(): Promise<void>; file: string } {
  const file = join(ctx.logDir, `${name}.log`);
  ctx.logFiles.push(file);
  const stream: WriteStream = createWriteStream(file, { flags: 'a' });
  const logger = createLogger(level, stream);
  return {
    logger,
    file,
    close: () =>
      new Promise<void>((resolve) => {
        logger.flush?.();
        stream.end(() => resolve());
      }),
  };
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

// ---------------------------------------------------------------------------------------------------
// An in-process system (startSystem) with its logs in a file.

export type InProcess = {
  system: System;
  baseUrl: string;
  logFile: string;
  stop(): Promise<void>;
};

export async function startInProcess(
  ctx: RunContext,
  name: string,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<InProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const log = fileLogger(ctx, name);
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    NMC_DEMO: 'on',
    LOG_LEVEL: 'info',
    NMC_DATA_DIR: ctx.runDir,
    ...env,
  });
  const system = await startSystem(config, log.logger);
  return {
    system,
    baseUrl,
    logFile: log.file,
    async stop() {
      await system.stop().catch(() => undefined);
      await log.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Signed Twilio webhooks whose signatures are remembered for the log scan.

export function twilioPoster(options: { appBaseUrl: string; publicBaseUrl?: string; authToken: string }) {
  const publicBase = options.publicBaseUrl ?? options.appBaseUrl;
  return async function post(path: string, params: Record<string, string>): Promise<WebhookResponse> {
    const signature = signTwilioRequest(options.authToken, `${publicBase}${path}`, params);
    rememberSecret(signature, 'signature');
    return postSignedForm({
      url: `${options.appBaseUrl}${path}`,
      signedUrl: `${publicBase}${path}`,
      authToken: options.authToken,
      params,
      signature,
    });
  };
}

export function callParams(
  accountSid: string,
  callSid: string,
  from: string,
  to: string,
  callStatus: string,
): Record<string, string> {
  return {
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: callStatus,
    Called: to,
    CalledCountry: 'US',
    Caller: from,
    CallerCountry: 'US',
    Direction: 'inbound',
    From: from,
    FromCountry: 'US',
    To: to,
    ToCountry: 'US',
  };
}

export function dialStatusParams(
  accountSid: string,
  callSid: string,
  from: string,
  to: string,
): Record<string, string> {
  return {
    ...callParams(accountSid, callSid, from, to, 'in-progress'),
    DialCallStatus: 'no-answer',
    DialCallSid: twilioSid('CA'),
  };
}

export function smsParams(
  accountSid: string,
  messageSid: string,
  from: string,
  to: string,
  body: string,
): Record<string, string> {
  rememberSecret(body, 'body');
  return {
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    Body: body,
    From: from,
    FromCountry: 'US',
    MessageSid: messageSid,
    NumMedia: '0',
    NumSegments: '1',
    SmsMessageSid: messageSid,
    SmsSid: messageSid,
    SmsStatus: 'received',
    To: to,
    ToCountry: 'US',
  };
}

export async function count(db: pg.Pool | pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return Number(rows[0]?.n ?? 0);
}

export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

// ---------------------------------------------------------------------------------------------------
// A pg.Client that emits 'error' with no listener crashes the process (Node's unhandled 'error'
// event). The harness records such an event instead of dying with it, with the client's
// application_name, so the report can say which connection of the system had no handler.

export const unhandledPgErrors: string[] = [];
type EmitFn = (this: pg.Client, event: string | symbol, ...args: unknown[]) => boolean;
const originalEmit = pg.Client.prototype.emit as unknown as EmitFn;
(pg.Client.prototype as unknown as { emit: EmitFn }).emit = function (this: pg.Client, event, ...args) {
  if (event === 'error' && this.listenerCount('error') === 0) {
    const err = args[0] as { code?: string; message?: string } | undefined;
    const params = (this as unknown as { connectionParameters?: { application_name?: string } })
      .connectionParameters;
    const active = (this as unknown as { _activeQuery?: unknown })._activeQuery
      ? 'a query active'
      : 'no query active';
    unhandledPgErrors.push(
      `pg.Client (application_name ${params?.application_name ?? 'unset'}, ${active}) emitted 'error' with no listener: ${err?.code ?? ''} ${err?.message ?? String(err)}`,
    );
    return true;
  }
  return originalEmit.call(this, event, ...args);
};

/** How many texts each number received, across the given Twilio sandboxes. */
export function textsPerCaller(
  sandboxes: readonly { messages(): readonly { to: string }[] }[],
): Map<string, number> {
  const map = new Map<string, number>();
  for (const s of sandboxes) for (const m of s.messages()) map.set(m.to, (map.get(m.to) ?? 0) + 1);
  return map;
}
