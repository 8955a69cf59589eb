import type { FastifyReply, FastifyRequest } from 'fastify';
// The TwiML builders alone: the package root would load the whole REST client.
import MessagingResponse from 'twilio/lib/twiml/MessagingResponse.js';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { z } from 'zod';
import { AppError } from '../domain/errors.ts';
import { isValidTwilioSignature, type TwilioFormParams } from '../providers/twilio/signature.ts';

// Shared by every Twilio webhook route: the signature check that runs before anything else, and
// the TwiML replies.
//
// The signed URL is PUBLIC_BASE_URL + the request's path and query, exactly as Twilio called it.
// Behind a proxy or tunnel, set PUBLIC_BASE_URL to the public origin Twilio is configured with
// (e.g. https://nmc.example.com); nothing is derived from X-Forwarded-* headers, which a client
// could forge.

export type TwilioWebhookAccount = { authToken: string; accountSid: string };

/**
 * The signature, then the account: a request validly signed for our auth token but naming another
 * account (a forwarded or replayed callback of some other Twilio account) is refused too.
 */
export function twilioSignatureCheck(account: TwilioWebhookAccount, publicBaseUrl: string) {
  return async (request: FastifyRequest) => {
    const header = request.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    const params = (request.body && typeof request.body === 'object' ? request.body : {}) as TwilioFormParams;
    const url = `${publicBaseUrl}${request.url}`;
    if (!signature || !isValidTwilioSignature({ authToken: account.authToken, signature, url, params })) {
      throw new AppError('signature_invalid', 'the X-Twilio-Signature header is missing or wrong');
    }
    if (params.AccountSid !== account.accountSid) {
      throw new AppError('forbidden', 'this webhook names another Twilio account');
    }
  };
}

export const twimlSchema = z
  .string()
  .describe('TwiML: what Twilio does next (dial, say, hang up, or nothing)')
  .meta({ example: '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>' });

/** How Twilio posts its webhooks, and what it reads back: for the published document. */
export const TWILIO_CONSUMES = ['application/x-www-form-urlencoded'];
export const TWIML_PRODUCES = ['text/xml'];

/** Twilio posts these on every request; we read a few and accept (and ignore) the rest. */
export const twilioFormSchema = z
  .looseObject({
    AccountSid: z.string().max(64).optional(),
    From: z.string().max(64).optional(),
    To: z.string().max(64).optional(),
  })
  .describe('Twilio webhook parameters (form-encoded); unknown parameters are accepted');

export const callSid = z.string().regex(/^CA[0-9a-fA-F]{32}$/);
export const messageSid = z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/);

export function sendTwiml(reply: FastifyReply, twiml: { toString(): string }): FastifyReply {
  return reply.code(200).type('text/xml; charset=utf-8').send(twiml.toString());
}

export const emptyVoiceResponse = () => new VoiceResponse();
export const emptyMessagingResponse = () => new MessagingResponse();
