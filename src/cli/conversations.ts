import { type Command, InvalidArgumentError, Option } from 'commander';
import type { GlobalOptions } from './options.ts';
import { callApi, resolveTarget, type Target } from './server.ts';
import { addTenantOptions, type TenantOptions, tenantToken } from './token.ts';

// `nmc conversations …`: the operator's inbox through the HTTP API, with a dev-issuer token for
// the tenant's OWNER (or --role TECH), exactly as an operator's app would call it.

type Conversation = {
  id: string;
  caller: string;
  state: string;
  assigned_to: string | null;
  flagged: string | null;
  last_message_at: string | null;
  created_at: string;
};
type Message = {
  direction: 'in' | 'out';
  participant: string;
  body: string;
  status: string;
  created_at: string;
};
type Detail = Conversation & { messages: Message[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function idArgument(value: string): string {
  if (!UUID.test(value))
    throw new InvalidArgumentError('a conversation id (a UUID, see `conversations list`)');
  return value;
}

function limitArgument(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new InvalidArgumentError('a whole number, 1 to 100');
  return limit;
}

function printDetail(detail: Detail): void {
  process.stdout.write(
    `${detail.id}  ${detail.caller}  ${detail.state}${detail.flagged ? `  flagged: ${detail.flagged}` : ''}\n`,
  );
  for (const m of detail.messages) {
    const arrow = m.direction === 'in' ? '→' : '←';
    process.stdout.write(`  ${m.created_at}  ${arrow} ${m.participant.padEnd(9)} ${m.body}  [${m.status}]\n`);
  }
}

async function session(
  globals: GlobalOptions,
  options: TenantOptions,
): Promise<{ target: Target; token: string }> {
  const target = await resolveTarget(globals.config, globals.url);
  return { target, token: await tenantToken(target, options) };
}

export function registerConversations(program: Command, globals: () => GlobalOptions): void {
  const conversations = program
    .command('conversations')
    .description("the tenant's conversations (operator API)");

  addTenantOptions(
    conversations
      .command('list')
      .description('the inbox, newest activity first')
      .addOption(
        new Option('--state <state>', 'only this state').choices(['open', 'human', 'closed', 'blocked']),
      )
      .option('--caller <digits>', "digits the caller's number contains")
      .addOption(new Option('--limit <n>', 'how many, 1 to 100').default(50).argParser(limitArgument)),
  ).action(async (options: TenantOptions & { state?: string; caller?: string; limit: number }) => {
    const { target, token } = await session(globals(), options);
    const query = new URLSearchParams({ limit: String(options.limit) });
    if (options.state) query.set('state', options.state);
    if (options.caller) query.set('caller', options.caller);
    const page = await callApi<{ items: Conversation[] }>(
      target,
      token,
      'GET',
      `/api/v1/conversations?${query}`,
    );
    if (page.items.length === 0) process.stdout.write('no conversations\n');
    for (const c of page.items) {
      process.stdout.write(
        `${c.id}  ${c.caller}  ${c.state.padEnd(7)} ${c.last_message_at ?? c.created_at}${c.flagged ? `  flagged: ${c.flagged}` : ''}\n`,
      );
    }
  });

  addTenantOptions(
    conversations
      .command('show')
      .description('one conversation with its transcript')
      .argument('<id>', 'conversation id', idArgument),
  ).action(async (id: string, options: TenantOptions) => {
    const { target, token } = await session(globals(), options);
    printDetail(await callApi<Detail>(target, token, 'GET', `/api/v1/conversations/${id}`));
  });

  const actions = [
    ['takeover', 'take the conversation over: the assistant goes silent'],
    ['release', 'hand the conversation back to the assistant'],
    ['close', 'close the conversation'],
  ] as const;
  for (const [action, description] of actions) {
    addTenantOptions(
      conversations.command(action).description(description).argument('<id>', 'conversation id', idArgument),
    ).action(async (id: string, options: TenantOptions) => {
      const { target, token } = await session(globals(), options);
      const result = await callApi<{ conversation: Detail }>(
        target,
        token,
        'POST',
        `/api/v1/conversations/${id}/${action}`,
        {},
      );
      process.stdout.write(`${action}: ${result.conversation.id} is now ${result.conversation.state}\n`);
    });
  }

  addTenantOptions(
    conversations
      .command('send')
      .description('text the caller as the operator (takes the conversation over first)')
      .argument('<id>', 'conversation id', idArgument)
      .requiredOption('--body <text>', 'the text'),
  ).action(async (id: string, options: TenantOptions & { body: string }) => {
    const { target, token } = await session(globals(), options);
    const result = await callApi<{ conversation: Detail; suppressed_reason: string | null }>(
      target,
      token,
      'POST',
      `/api/v1/conversations/${id}/messages`,
      { body: options.body },
    );
    if (result.suppressed_reason) process.stdout.write(`not sent: ${result.suppressed_reason}\n`);
    else process.stdout.write(`sent to ${result.conversation.caller}\n`);
  });
}
