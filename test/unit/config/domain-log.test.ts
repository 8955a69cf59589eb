import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/domain/event-catalog.ts';
import { domainLogLine } from '../../../src/runtime/domain-log.ts';

// The domain log copies ids, states and statuses, never numbers or texts, and renames the
// state-change keys the sanitizer would otherwise take for phone fields.

function envelope(event_name: EventEnvelope['event_name'], payload: Record<string, unknown>): EventEnvelope {
  return {
    event_id: 'e-1',
    event_name,
    schema_version: 1,
    tenant_id: 't-1',
    occurred_at: '2026-12-03T10:00:00.000Z',
    correlation_id: 'c-1',
    causation_id: null,
    payload,
  };
}

describe('domain log line', () => {
  it('names the step and keeps the ids', () => {
    expect(
      domainLogLine(
        envelope('nmc.conversation.MessageQueued', {
          conversation_id: 'conv',
          message_id: 'msg',
          purpose: 'greeting',
        }),
      ),
    ).toEqual({
      message: 'sms queued',
      fields: {
        event: 'MessageQueued',
        tenant_id: 't-1',
        conversation_id: 'conv',
        message_id: 'msg',
        purpose: 'greeting',
        correlation_id: 'c-1',
      },
    });
    expect(
      domainLogLine(
        envelope('nmc.messaging.MessageStatusChanged', {
          conversation_id: 'conv',
          message_id: 'msg',
          status: 'delivered',
          error_code: null,
        }),
      ).message,
    ).toBe('sms delivered');
  });

  it('renames from/to of a state change and copies nothing it does not know', () => {
    const { fields } = domainLogLine(
      envelope('nmc.conversation.StateChanged', {
        conversation_id: 'conv',
        from: 'open',
        to: 'human',
        cause: 'HumanTakeoverRequested',
        caller: '+13105550123',
        body: 'my address is 1 Main St',
      }),
    );
    expect(fields).toMatchObject({ state_from: 'open', state_to: 'human', cause: 'HumanTakeoverRequested' });
    expect(JSON.stringify(fields)).not.toMatch(/3105550123|Main St/);
  });
});
