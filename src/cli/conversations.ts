import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ApiClient, components } from '../api-client/index.ts';
import type { GlobalOptions } from './options.ts';
import { answerOf, apiClient, resolveTarget } from './server.ts';
import { addTenantOptions, type TenantOptions, tenantToken } from './token.ts';

// `nmc conversations …`: the operator's inbox through the HTTP API, with a dev-issuer token for
// the tenant's OWNER (or --role TECH), exactly as an operator's app would call it.

type Detail = components['schemas']['ConversationDetail'];

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

/** The API as the tenant's user (OWNER unless --role says otherwise). */
async function session(globals: GlobalOptions, options: TenantOptions): Promise<ApiClient> {
  const target = await resolveTarget(globals.config, globals.url);
  return apiClient(target, await tenantToken(target, options));
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
  ).action(async (options: TenantOptions & { state?: Detail['state']; caller?: string; limit: number }) => {
    const api = await session(globals(), options);
    const query = {
      limit: options.limit,
      ...(options.state ? { state: options.state } : {}),
      ...(options.caller ? { caller: options.caller } : {}),
    };
    const page = await answerOf(
      api.GET('/api/v1/conversations', { params: { query } }),
      'GET /api/v1/conversations',
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
    const api = await session(globals(), options);
    printDetail(
      await answerOf(
        api.GET('/api/v1/conversations/{id}', { params: { path: { id } } }),
        `GET /api/v1/conversations/${id}`,
      ),
    );
  });

  // One literal path per action: the client checks each against the document.
  const actions = {
    takeover: {
      description: 'take the conversation over: the assistant goes silent',
      call: (api: ApiClient, id: string) =>
        api.POST('/api/v1/conversations/{id}/takeover', { params: { path: { id } } }),
    },
    release: {
      description: 'hand the conversation back to the assistant',
      call: (api: ApiClient, id: string) =>
        api.POST('/api/v1/conversations/{id}/release', { params: { path: { id } } }),
    },
    close: {
      description: 'close the conversation',
      call: (api: ApiClient, id: string) =>
        api.POST('/api/v1/conversations/{id}/close', { params: { path: { id } } }),
    },
  };
  for (const [action, { description, call }] of Object.entries(actions)) {
    addTenantOptions(
      conversations.command(action).description(description).argument('<id>', 'conversation id', idArgument),
    ).action(async (id: string, options: TenantOptions) => {
      const api = await session(globals(), options);
      const result = await answerOf(call(api, id), `POST /api/v1/conversations/${id}/${action}`);
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
    const api = await session(globals(), options);
    const result = await answerOf(
      api.POST('/api/v1/conversations/{id}/messages', {
        params: { path: { id } },
        body: { body: options.body },
      }),
      `POST /api/v1/conversations/${id}/messages`,
    );
    // A 201 (sent) has no reason; a 200 names why nothing was sent.
    const suppressed = 'suppressed_reason' in result ? result.suppressed_reason : null;
    if (suppressed) process.stdout.write(`not sent: ${suppressed}\n`);
    else process.stdout.write(`sent to ${result.conversation.caller}\n`);
  });
}
