import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore } from '@xstate/store';
import { understand } from '../../../domain/understanding/understand.ts';
import type { Trade, UnderstandContext } from '../../../domain/understanding/understanding.ts';
import { readBody } from '../../sandbox-body.ts';

// A stand-in for an OpenAI-compatible `/chat/completions` endpoint, answering the way
// src/providers/llm/client.ts asks: it reads the JSON user message (services, offered times, the
// customer's text) and answers a hint deterministically, so tests know what a "model" will say.
//
// Reading, in order: a taught phrase (`teach`) found in the text; a listed service name found in
// the text; a lone digit within the offered times; a leading yes/no word; else `other`.
// Asked to understand (src/providers/llm/understand-model.ts: a user message with task "understand"), it
// answers the deterministic reader's Understanding for that text and context: what it proves is the
// shape and the round trip, not a model's judgement.
// Faults make it fail (a status), be slow (a delay), or answer nonsense (not JSON, a reply instead
// of a hint, no choices at all, a hint naming a service that does not exist).
//
// What must stay true: it listens on 127.0.0.1 only (a test double, never a service), and it never
// composes a reply unless told to answer nonsense — that is the case the client must refuse.

export type SandboxHint = {
  intent: string;
  /** Resolved to the id of the listed service with this name (case-insensitive). */
  service?: string;
  service_id?: string;
  pick?: number;
};

export type LlmFault =
  | { kind: 'status'; status: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'not-json' }
  | { kind: 'wrong-shape' }
  | { kind: 'no-choices' }
  | { kind: 'unknown-service' };

export type RecordedChatRequest = {
  /** The Authorization header matched the sandbox's key (always true when it has none). */
  authorized: boolean;
  model: unknown;
  /** The parsed request body, as sent. */
  body: unknown;
  status: number;
};

export type LlmSandboxOptions = {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Default 0: any free port. */
  port?: number;
};

export type LlmSandbox = {
  /** The base URL to give as LLM_BASE_URL, e.g. http://127.0.0.1:40123/v1 */
  readonly url: string;
  /** When the customer's text contains `phrase` (case-insensitive), answer `hint`. */
  teach(phrase: string, hint: SandboxHint): void;
  /** Every following request meets this fault until `clearFault` (or `reset`). */
  setFault(fault: LlmFault): void;
  clearFault(): void;
  requests(): RecordedChatRequest[];
  /** Forget taught phrases, faults and recorded requests. */
  reset(): void;
  close(): Promise<void>;
};

const MAX_BODY_BYTES = 256 * 1024;
const PATH = '/v1/chat/completions';

type Question = {
  step: string;
  services: Array<{ id: string; name: string }>;
  offered: number;
  text: string;
};

function createRequestStore() {
  return createStore({
    context: { requests: [] as RecordedChatRequest[] },
    on: {
      received: (ctx, event: { request: RecordedChatRequest }) => ({
        requests: [...ctx.requests, event.request],
      }),
      cleared: () => ({ requests: [] as RecordedChatRequest[] }),
    },
  });
}

/** The question inside the last user message; a plain-text message is read as the customer's text. */
/** The text of the last user message of a chat request, or null. */
function lastUserContent(body: unknown): string | null {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return null;
  const user = [...messages].reverse().find((m) => (m as { role?: unknown })?.role === 'user') as
    | { content?: unknown }
    | undefined;
  return typeof user?.content === 'string' ? user.content : null;
}

function questionOf(body: unknown): Question | null {
  const content = lastUserContent(body);
  if (content === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return { step: 'idle', services: [], offered: 0, text: content };
  }
  const q = (parsed ?? {}) as Record<string, unknown>;
  const services = Array.isArray(q.services)
    ? q.services.filter(
        (s): s is { id: string; name: string } =>
          typeof (s as { id?: unknown })?.id === 'string' &&
          typeof (s as { name?: unknown })?.name === 'string',
      )
    : [];
  return {
    step: typeof q.step === 'string' ? q.step : 'idle',
    services,
    offered: Array.isArray(q.offered_times) ? q.offered_times.length : 0,
    text: typeof q.customer_message === 'string' ? q.customer_message : '',
  };
}

function resolve(hint: SandboxHint, question: Question): Record<string, unknown> {
  const { service, ...rest } = hint;
  if (service === undefined) return rest;
  const found = question.services.find((s) => s.name.toLowerCase() === service.toLowerCase());
  return { ...rest, service_id: found?.id ?? `unknown:${service}` };
}

function read(question: Question, taught: ReadonlyMap<string, SandboxHint>): Record<string, unknown> {
  const text = question.text.toLowerCase();
  for (const [phrase, hint] of taught) if (text.includes(phrase)) return resolve(hint, question);
  const named = question.services.find((s) => text.includes(s.name.toLowerCase()));
  if (named) return { intent: 'service', service_id: named.id };
  const digit = /^\s*#?\s*([1-9])\s*$/.exec(text)?.[1];
  if (digit && Number(digit) <= question.offered) return { intent: 'pick', pick: Number(digit) };
  if (/^\s*(yes|yeah|yep|sure)\b/.test(text)) return { intent: 'yes' };
  if (/^\s*(no|nope|nah)\b/.test(text)) return { intent: 'no' };
  return { intent: 'other' };
}

/** The deterministic Understanding when the user message asks for one (task "understand"); else null. */
function understandingAnswer(body: unknown): string | null {
  const content = lastUserContent(body);
  if (content === null) return null;
  let q: Record<string, unknown>;
  try {
    q = (JSON.parse(content) ?? {}) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (q.task !== 'understand' || typeof q.customer_message !== 'string') return null;
  const given = (q.context ?? {}) as Partial<UnderstandContext>;
  const context: UnderstandContext = {
    now: typeof given.now === 'string' ? given.now : new Date(0).toISOString(),
    timeZone: typeof q.time_zone === 'string' ? q.time_zone : 'UTC',
    trade: (typeof q.trade === 'string' ? q.trade : 'plumbing') as Trade,
    catalog: Array.isArray(q.services) ? (q.services as UnderstandContext['catalog']) : [],
    offered: Array.isArray(given.offered) ? given.offered : [],
    appointment: given.appointment ?? null,
  };
  return JSON.stringify(understand(q.customer_message, context));
}

function completion(model: unknown, content: string): Record<string, unknown> {
  return {
    id: `chatcmpl-sandbox-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof model === 'string' ? model : 'sandbox',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  };
}

export async function startLlmSandbox(options: LlmSandboxOptions = {}): Promise<LlmSandbox> {
  const store = createRequestStore();
  // A Map, not an object: a phrase such as `__proto__` stays an ordinary key.
  const taught = new Map<string, SandboxHint>();
  let fault: LlmFault | null = null;
  // Ends delays still sleeping when the sandbox closes.
  const closing = new AbortController();

  function send(res: ServerResponse, status: number, body: unknown): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== PATH) {
      send(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
      return;
    }
    const authorized = !options.apiKey || req.headers.authorization === `Bearer ${options.apiKey}`;
    const raw = await readBody(req, MAX_BODY_BYTES);
    let body: unknown = null;
    try {
      body = raw === null ? null : JSON.parse(raw);
    } catch {
      body = null;
    }
    const model = (body as { model?: unknown } | null)?.model;
    const answer = (status: number, payload: unknown) => {
      store.trigger.received({ request: { authorized, model, body, status } });
      send(res, status, payload);
    };
    if (!authorized) return answer(401, { error: { message: 'invalid api key', type: 'auth_error' } });
    const question = questionOf(body);
    if (question === null || typeof model !== 'string') {
      return answer(400, { error: { message: 'malformed request', type: 'invalid_request_error' } });
    }
    const current = fault;
    if (current?.kind === 'delay') await sleep(current.ms, undefined, { signal: closing.signal });
    if (current?.kind === 'status') {
      return answer(current.status, { error: { message: 'sandbox fault', type: 'server_error' } });
    }
    if (current?.kind === 'no-choices')
      return answer(200, { id: 'chatcmpl-sandbox', object: 'chat.completion' });
    const content =
      current?.kind === 'not-json'
        ? 'Sure! We can fix your pipes tomorrow at 10.'
        : current?.kind === 'wrong-shape'
          ? JSON.stringify({ reply: 'Sure! We can fix your pipes tomorrow at 10.', intent: 'book' })
          : current?.kind === 'unknown-service'
            ? JSON.stringify({ intent: 'service', service_id: 'svc-that-does-not-exist' })
            : (understandingAnswer(body) ?? JSON.stringify(read(question, taught)));
    return answer(200, completion(model, content));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: { message: 'sandbox error', type: 'server_error' } });
      else res.destroy();
    });
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ready());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    teach(phrase, hint) {
      taught.set(phrase.toLowerCase(), hint);
    },
    setFault(next) {
      fault = next;
    },
    clearFault() {
      fault = null;
    },
    requests: () => store.getSnapshot().context.requests,
    reset() {
      taught.clear();
      fault = null;
      store.trigger.cleared();
    },
    close: () =>
      new Promise<void>((done) => {
        // A delayed answer must not keep the sandbox (and a test run) open.
        closing.abort();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
