import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { classifyDial } from '../../domain/missed-call.ts';
import { parseE164 } from '../../domain/phone.ts';
import {
  findCall,
  markScreenAccepted,
  recordCallStart,
  recordDialResult,
} from '../../persistence/repositories/calls.ts';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import { findTenantByNumber } from '../../persistence/repositories/tenants.ts';
import type { AppDeps } from '../app.ts';
import {
  callSid,
  emptyVoiceResponse,
  sendTwiml,
  TWILIO_CONSUMES,
  TWIML_PRODUCES,
  twilioFormSchema,
  twilioSignatureCheck,
  twimlSchema,
} from '../twilio-webhook.ts';

// A call to a tenant's number: dial the business's phone with call screening; when the dial ends,
// decide whether it was missed (src/domain/missed-call.ts) and, if so, send `MissedCall` to the
// caller's conversation. Twilio expects TwiML here, so a request we cannot use gets an empty,
// valid TwiML rather than an error page — after the signature check, which always comes first.

const voiceParams = z.object({
  CallSid: callSid,
  From: z.string().min(1).max(64),
  To: z.string().min(1).max(64),
});
const dialStatusParams = voiceParams.extend({
  DialCallStatus: z.enum(['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled']),
  // Seconds. A dial longer than a day does not happen (Twilio ends calls at 24 hours) and would not
  // fit the column: read as unknown, so the missed call is still handled.
  DialCallDuration: z.coerce.number().int().min(0).max(86_400).optional().catch(undefined),
  AnsweredBy: z.string().max(64).optional(),
});
const screenParams = z.object({ ParentCallSid: callSid, Digits: z.string().max(8).optional() });

export function twilioVoiceRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const base = deps.config.PUBLIC_BASE_URL;
    const options = (summary: string) => ({
      preValidation: twilioSignatureCheck(deps.twilio, base),
      schema: {
        tags: ['twilio'],
        summary,
        consumes: TWILIO_CONSUMES,
        produces: TWIML_PRODUCES,
        body: twilioFormSchema,
        response: { 200: twimlSchema },
      },
    });

    app.post(
      '/webhooks/twilio/voice',
      options('Incoming call: dial the business with screening'),
      async (request, reply) => {
        const params = voiceParams.safeParse(request.body);
        if (!params.success) return sendTwiml(reply, emptyVoiceResponse());
        const tenant = await findTenantByNumber(deps.db, parseE164(params.data.To) ?? params.data.To);
        const twiml = emptyVoiceResponse();
        if (!tenant?.forwarding_phone) {
          twiml.say('Sorry, this number is not in service.');
          twiml.hangup();
          return sendTwiml(reply, twiml);
        }
        deps.warmSmsSender?.();
        const caller = parseE164(params.data.From);
        if (caller) {
          await recordCallStart(deps.db, {
            tenantId: tenant.id,
            id: randomUUID(),
            callSid: params.data.CallSid,
            caller,
          });
        }
        const policy = await loadPolicy(deps.db, tenant.id);
        const dial = twiml.dial({
          timeout: policy['calls.dial_timeout_seconds'],
          action: `${base}/webhooks/twilio/voice/dial-status`,
          method: 'POST',
          answerOnBridge: true,
        });
        dial.number({ url: `${base}/webhooks/twilio/voice/screen`, method: 'POST' }, tenant.forwarding_phone);
        return sendTwiml(reply, twiml);
      },
    );

    app.post(
      '/webhooks/twilio/voice/screen',
      options('Whisper to the business: press a key to take the call'),
      async (_request, reply) => {
        const twiml = emptyVoiceResponse();
        const gather = twiml.gather({
          numDigits: 1,
          timeout: 6,
          action: `${base}/webhooks/twilio/voice/screen-result`,
          method: 'POST',
        });
        gather.say('Call from a customer. Press any key to take it.');
        twiml.hangup();
        return sendTwiml(reply, twiml);
      },
    );

    app.post(
      '/webhooks/twilio/voice/screen-result',
      options('The business accepted (or not) the screened call'),
      async (request, reply) => {
        const params = screenParams.safeParse(request.body);
        const twiml = emptyVoiceResponse();
        if (params.success && params.data.Digits) {
          await markScreenAccepted(deps.db, params.data.ParentCallSid);
          return sendTwiml(reply, twiml); // empty: connects the call
        }
        twiml.hangup();
        return sendTwiml(reply, twiml);
      },
    );

    app.post(
      '/webhooks/twilio/voice/dial-status',
      options('The dial ended: a missed call texts the caller'),
      async (request, reply) => {
        const params = dialStatusParams.safeParse(request.body);
        if (!params.success) return sendTwiml(reply, emptyVoiceResponse());
        const { CallSid, DialCallStatus, DialCallDuration, AnsweredBy } = params.data;
        const tenant = await findTenantByNumber(deps.db, parseE164(params.data.To) ?? params.data.To);
        const caller = parseE164(params.data.From);
        if (!tenant || !caller) return sendTwiml(reply, emptyVoiceResponse());

        // Two reads on two pooled connections at once: the first text waits for the slower, not both.
        const [call, policy] = await Promise.all([
          findCall(deps.db, tenant.id, CallSid),
          loadPolicy(deps.db, tenant.id),
        ]);
        const ringSeconds = call ? (Date.now() - call.created_at.getTime()) / 1000 : Number.POSITIVE_INFINITY;
        const outcome = classifyDial({
          dialCallStatus: DialCallStatus,
          screenAccepted: call?.answered_by === 'human',
          answeredBy: AnsweredBy ?? null,
          ringSeconds,
          minRingSeconds: policy['calls.min_ring_seconds'],
        });
        const result = {
          tenantId: tenant.id,
          id: call?.id ?? randomUUID(),
          callSid: CallSid,
          caller,
          dialStatus: DialCallStatus,
          durationSeconds: DialCallDuration ?? null,
          answeredBy: AnsweredBy ?? null,
          missed: outcome === 'missed',
          texted: false,
          conversationId: null,
        };
        const twiml = emptyVoiceResponse();
        if (outcome !== 'missed') {
          await recordDialResult(deps.db, result);
          twiml.hangup();
          return sendTwiml(reply, twiml);
        }
        await deps.dispatch(
          tenant.id,
          { caller },
          { type: 'MissedCall', callSid: CallSid, at: new Date().toISOString() },
          {
            correlationId: request.id,
            causationId: CallSid,
            tenant,
            webhook: { provider: 'twilio', key: `dial-status:${CallSid}` },
            // In the same transaction, once its outcome is known: one write, texted or not.
            finish: async ({ client, result: dispatched }) => {
              await recordDialResult(client, {
                ...result,
                conversationId: dispatched.conversationId,
                texted: dispatched.messageIds.length > 0,
              });
            },
          },
        );
        twiml.say("Sorry we couldn't take your call. We'll text you in a moment.");
        twiml.hangup();
        return sendTwiml(reply, twiml);
      },
    );
  };
}
