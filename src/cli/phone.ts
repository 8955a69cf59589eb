import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseE164 } from '../domain/phone.ts';
import { SANDBOX_ACCOUNT, twilioAccountFrom } from '../providers/twilio/account.ts';
import { createSimulatedPhone, type SimulatedPhone } from '../providers/twilio/sandbox/phone.ts';
import type { GlobalOptions } from './options.ts';
import { withProgress } from './progress.ts';
import { CliError, reach, resolveTarget, type Target, unreachable } from './server.ts';

// `nmc phone …`: act as a caller's phone against the running server (through the same signed
// webhooks Twilio sends) and show what that phone received, read back from the Twilio sandbox's
// own message list (the messages the app sent through it), so trying the product needs no token.

const DEMO_NUMBER = '+15005550006';
/** After the last text, how long the phone stays quiet before the command says it is done. */
const QUIET_MS = 2_000;
const POLL_MS = 250;

export function e164Argument(value: string): string {
  const e164 = parseE164(value);
  if (e164 === null)
    throw new InvalidArgumentError(`"${value}" is not a valid phone number (E.164, e.g. +13105550123)`);
  return e164;
}

function secondsArgument(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600)
    throw new InvalidArgumentError('a number of seconds between 0 and 600');
  return seconds;
}

type ReceivedText = { sid: string; from: string; body: string; status: string };

/** The texts the sandbox accepted for `to`, oldest first. */
async function textsTo(target: Target, sandboxUrl: string, to: string): Promise<ReceivedText[]> {
  const { accountSid, authToken } = SANDBOX_ACCOUNT;
  const url = `${sandboxUrl}/2010-04-01/Accounts/${accountSid}/Messages.json?To=${encodeURIComponent(to)}&PageSize=1000`;
  const res = await reach(target, url, {
    headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
  });
  if (!res.ok) throw new CliError(`the Twilio sandbox at ${sandboxUrl} answered ${res.status}`);
  const page = (await res.json()) as { messages: ReceivedText[] };
  // Twilio lists newest first.
  return page.messages.reverse();
}

function print(text: ReceivedText): void {
  process.stdout.write(`← ${text.from}: ${text.body}\n`);
}

/**
 * Prints the texts `to` receives after `seen`, in order: waits up to `waitMs` for the first, then
 * until the phone has been quiet for a moment.
 */
async function printNewTexts(
  target: Target,
  sandboxUrl: string,
  to: string,
  seen: Set<string>,
  waitMs: number,
): Promise<number> {
  const started = Date.now();
  let lastAt: number | null = null;
  let printed = 0;
  while (true) {
    for (const text of await textsTo(target, sandboxUrl, to)) {
      if (seen.has(text.sid)) continue;
      seen.add(text.sid);
      print(text);
      printed++;
      lastAt = Date.now();
    }
    const now = Date.now();
    if (lastAt !== null ? now - lastAt >= QUIET_MS : now - started >= waitMs) return printed;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

type PhoneOptions = { from: string; to: string; wait: number };

async function openPhone(globals: GlobalOptions): Promise<{ target: Target; phone: SimulatedPhone }> {
  const target = await resolveTarget(globals.config, globals.url);
  const account = twilioAccountFrom(globals.config);
  const phone = createSimulatedPhone({
    appBaseUrl: target.apiUrl,
    publicBaseUrl: target.publicBaseUrl,
    authToken: account.sandbox ? SANDBOX_ACCOUNT.authToken : account.authToken,
    accountSid: account.accountSid,
  });
  return { target, phone };
}

/** Runs `act` as the caller, then prints what the caller's phone received because of it. */
async function actAndShow(
  globals: GlobalOptions,
  options: PhoneOptions,
  act: (phone: SimulatedPhone) => Promise<{ status: number; body: string; what: string }>,
): Promise<void> {
  const { target, phone } = await openPhone(globals);
  const sandboxUrl = target.twilioSandboxUrl;
  const before = sandboxUrl ? await textsTo(target, sandboxUrl, options.from).catch(() => []) : [];
  let answer: Awaited<ReturnType<typeof act>>;
  try {
    answer = await act(phone);
  } catch (err) {
    // The webhook's fetch failing means nothing answers at the API's address.
    throw err instanceof CliError ? err : unreachable(target);
  }
  if (answer.status >= 400)
    throw new CliError(`${answer.what}: the server answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  process.stdout.write(`${answer.what}\n`);
  if (!sandboxUrl) {
    process.stdout.write(
      'the texts the caller receives are not shown: this server has no Twilio sandbox in its server.json\n',
    );
    return;
  }
  const seen = new Set(before.map((text) => text.sid));
  const printed = await withProgress(
    `waiting for texts to ${options.from}`,
    printNewTexts(target, sandboxUrl, options.from, seen, options.wait * 1000),
  );
  if (printed === 0) process.stdout.write(`no text reached ${options.from} within ${options.wait} s\n`);
}

function phoneOptions(command: Command, waitDefault: number): Command {
  return command
    .requiredOption('--from <e164>', "the caller's number", e164Argument)
    .addOption(
      new Option('--to <e164>', "the business's number").default(DEMO_NUMBER).argParser(e164Argument),
    )
    .addOption(
      new Option('--wait <seconds>', 'how long to wait for the first text back')
        .default(waitDefault)
        .argParser(secondsArgument),
    );
}

export function registerPhone(program: Command, globals: () => GlobalOptions): void {
  const phone = program
    .command('phone')
    .description("act as a caller's phone against the running server (Twilio sandbox)");

  phoneOptions(
    phone
      .command('missed')
      .alias('call')
      .description('a call the business misses; prints the texts the caller gets'),
    10,
  ).action(async (options: PhoneOptions) => {
    await actAndShow(globals(), options, async (p) => {
      const { callSid, dialStatus } = await p.missedCall({ from: options.from, to: options.to });
      return { ...dialStatus, what: `missed call ${callSid} from ${options.from} to ${options.to}` };
    });
  });

  phoneOptions(
    phone.command('sms').description('the caller texts the business; prints the texts the caller gets back'),
    20,
  )
    .requiredOption('--body <text>', 'what the caller writes')
    .action(async (options: PhoneOptions & { body: string }) => {
      await actAndShow(globals(), options, async (p) => {
        const { messageSid, response } = await p.sms({
          from: options.from,
          to: options.to,
          body: options.body,
        });
        return { ...response, what: `text ${messageSid} from ${options.from}: ${options.body}` };
      });
    });

  phone
    .command('watch')
    .description("follow the texts a caller's phone receives, live, until Ctrl-C")
    .requiredOption('--from <e164>', "the caller's number", e164Argument)
    .action(async (options: { from: string }) => {
      const target = await resolveTarget(globals().config, globals().url);
      const sandboxUrl = target.twilioSandboxUrl;
      if (!sandboxUrl)
        throw new CliError('this server has no Twilio sandbox in its server.json: nothing to watch');
      process.stderr.write(`watching texts to ${options.from} (Ctrl-C to stop)\n`);
      const seen = new Set<string>();
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      while (!controller.signal.aborted) {
        for (const text of await textsTo(target, sandboxUrl, options.from)) {
          if (seen.has(text.sid)) continue;
          seen.add(text.sid);
          print(text);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
}
