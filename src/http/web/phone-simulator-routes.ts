import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { parseE164 } from '../../domain/phone.ts';
import type { SandboxMessage } from '../../providers/twilio/sandbox/message-resource.ts';
import type { SimulatedPhone } from '../../providers/twilio/sandbox/phone.ts';
import { checkCsrf, type WebSessionSettings } from './session-cookie.ts';

// The phone simulator's server side (/app/phone, sandbox only: registered only when the Twilio
// sandbox runs in this process, never in production). It acts as a caller through the same signed
// webhooks Twilio sends (the SimulatedPhone the tests and the CLI use), and shows that caller the
// texts the sandbox accepted for their number, live over Server-Sent Events.

export type PhoneSimulatorDeps = {
  phone: SimulatedPhone;
  /** The Twilio sandbox's accepted messages, and a way to hear of every change. */
  traffic: { messages(): SandboxMessage[]; onChange(listener: () => void): () => void };
  businessNumber: string;
  session: WebSessionSettings;
};

type Text = { id: string; direction: 'sent' | 'received'; body: string; at: string; status: string };

const number = z
  .string()
  .max(32)
  .transform((value, ctx) => {
    const e164 = parseE164(value);
    if (!e164) {
      ctx.addIssue({ code: 'custom', message: 'must be a valid phone number' });
      return z.NEVER;
    }
    return e164;
  });

// What a caller's number sent from the simulator, kept for the page; a sandbox-only convenience.
const MAX_TEXTS_PER_NUMBER = 200;

export function phoneSimulatorRoutes(deps: PhoneSimulatorDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const sentBy = new Map<string, Text[]>();
    const listeners = new Set<() => void>();
    const stopTraffic = deps.traffic.onChange(() => {
      for (const listener of listeners) listener();
    });
    const open = new Set<() => void>();
    app.addHook('onClose', async () => stopTraffic());
    app.addHook('preClose', async () => {
      for (const close of [...open]) close();
    });

    function textsOf(caller: string): Text[] {
      const received: Text[] = deps.traffic
        .messages()
        .filter((m) => m.to === caller)
        .map((m) => ({
          id: m.sid,
          direction: 'received',
          body: m.body,
          at: m.dateCreated.toISOString(),
          status: m.status,
        }));
      return [...received, ...(sentBy.get(caller) ?? [])].sort((a, b) => a.at.localeCompare(b.at));
    }

    app.get('/app/phone/api/business', { schema: { hide: true } }, async () => ({
      number: deps.businessNumber,
    }));

    app.post(
      '/app/phone/api/calls',
      { schema: { hide: true, body: z.object({ from: number, answered: z.boolean().default(false) }) } },
      async (request) => {
        checkCsrf(request, deps.session);
        const { from, answered } = request.body;
        const to = deps.businessNumber;
        if (!answered) {
          const { dialStatus } = await deps.phone.missedCall({ from, to });
          if (dialStatus.status >= 400) throw new AppError('unavailable', 'the call did not go through');
          return { outcome: 'missed' };
        }
        // The owner picks up and presses a key at the screening prompt: an answered call.
        const { callSid } = await deps.phone.call({ from, to });
        await deps.phone.post('/webhooks/twilio/voice/screen-result', {
          ParentCallSid: callSid,
          Digits: '1',
        });
        await deps.phone.dialStatus({ callSid, from, to, dialCallStatus: 'completed', dialCallDuration: 95 });
        return { outcome: 'answered' };
      },
    );

    app.post(
      '/app/phone/api/texts',
      {
        schema: { hide: true, body: z.object({ from: number, body: z.string().trim().min(1).max(1600) }) },
      },
      async (request) => {
        checkCsrf(request, deps.session);
        const { from, body } = request.body;
        const { messageSid, response } = await deps.phone.sms({ from, to: deps.businessNumber, body });
        if (response.status >= 400) throw new AppError('unavailable', 'the text did not go through');
        const mine = sentBy.get(from) ?? [];
        mine.push({ id: messageSid, direction: 'sent', body, at: new Date().toISOString(), status: 'sent' });
        sentBy.set(from, mine.slice(-MAX_TEXTS_PER_NUMBER));
        for (const listener of listeners) listener();
        return { id: messageSid };
      },
    );

    app.get(
      '/app/phone/api/texts',
      { schema: { hide: true, querystring: z.object({ number }) } },
      async (request, reply) => {
        const caller = request.query.number;
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        let last = '';
        const push = () => {
          const data = JSON.stringify({ items: textsOf(caller) });
          if (data === last) return;
          last = data;
          raw.write(`event: texts\ndata: ${data}\n\n`);
        };
        push();
        listeners.add(push);
        const close = () => {
          listeners.delete(push);
          open.delete(close);
          if (!raw.writableEnded) raw.end(() => request.raw.socket?.destroy());
        };
        open.add(close);
        raw.on('close', close);
        raw.on('error', close);
      },
    );
  };
}
