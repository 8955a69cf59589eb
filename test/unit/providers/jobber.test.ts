import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { busyChangeOf, OUR_MARKER } from '../../../src/domain/calendar-busy.ts';
import {
  localDateTime,
  markerLines,
  markerOf,
  throttleWaitMs,
  visitAsEvent,
} from '../../../src/providers/jobber/calendar-provider.ts';
import { requestedQueryCost } from '../../../src/providers/jobber/sandbox/schema.ts';
import { jobberSignature, validJobberSignature } from '../../../src/providers/jobber/webhook-signature.ts';

// The Jobber provider's pure parts: the query cost Jobber documents (the sandbox throttles by
// it), the wait a THROTTLED answer implies, our ids in a visit's instructions, visits as the
// domain's events, and the webhook signature.

const cost = (query: string, variables: Record<string, unknown> = {}) =>
  requestedQueryCost(parse(query), variables);

describe('query cost (Jobber’s documented examples)', () => {
  it('a single object: one point per field', () => {
    expect(cost('query { quote(id: "MTc1") { id cost title client { id firstName } } }')).toBe(7);
  });
  it('a connection: its page size times the fields of a node; 100 when no page size is given', () => {
    expect(
      cost('query { quotes(first: 10) { edges { node { id cost quoteNumber quoteStatus title } } } }'),
    ).toBe(50);
    expect(cost('query { quotes { edges { node { id cost quoteNumber quoteStatus title } } } }')).toBe(500);
    expect(cost('query ($n: Int) { quotes(first: $n) { nodes { id title } } }', { n: 3 })).toBe(6);
  });
});

describe('throttle wait', () => {
  it('is the missing points over the restore rate', () => {
    expect(
      throttleWaitMs({
        requestedQueryCost: 1_500,
        throttleStatus: { currentlyAvailable: 500, restoreRate: 500 },
      }),
    ).toBe(2_000);
    expect(
      throttleWaitMs({
        requestedQueryCost: 10,
        throttleStatus: { currentlyAvailable: 500, restoreRate: 500 },
      }),
    ).toBe(0);
    expect(throttleWaitMs(undefined)).toBeNull();
    expect(
      throttleWaitMs({ requestedQueryCost: 10, throttleStatus: { currentlyAvailable: 0, restoreRate: 0 } }),
    ).toBeNull();
  });
});

describe('visits', () => {
  const ours = { [OUR_MARKER]: '6b1f1c8e-3d2a-4c1b-9a7e-1f2e3d4c5b6a', nmc_tenant_id: 't1' };
  const visit = {
    id: 'VmlzaXQvMQ==',
    title: 'Boiler',
    instructions: null as string | null,
    startAt: '2026-12-10T17:00:00Z',
    endAt: '2026-12-10T18:00:00Z',
    allDay: false,
    visitStatus: 'UPCOMING',
  };

  it('our ids survive the round trip through the instructions, after the owner’s own text', () => {
    const instructions = `Customer: Ana\nPhone: +13105550100\n\n${markerLines(ours)}`;
    expect(markerOf(instructions)).toEqual(ours);
    expect(markerOf('Bring the ladder')).toBeNull();
    expect(markerOf(null)).toBeNull();
  });

  it('a scheduled visit is busy; ours is not mirrored; an unscheduled one blocks nothing', () => {
    expect(busyChangeOf(visitAsEvent(visit), 'UTC')).toEqual({
      kind: 'busy',
      eventId: visit.id,
      start: Date.parse(visit.startAt),
      end: Date.parse(visit.endAt),
    });
    expect(busyChangeOf(visitAsEvent({ ...visit, instructions: markerLines(ours) }), 'UTC')).toMatchObject({
      kind: 'free',
      why: 'ours',
    });
    expect(busyChangeOf(visitAsEvent({ ...visit, startAt: null, endAt: null }), 'UTC')).toMatchObject({
      kind: 'free',
      why: 'no_times',
    });
  });

  it('an instant as Jobber’s local date-time attributes, in UTC', () => {
    expect(localDateTime('2026-12-10T09:30:00-08:00')).toEqual({
      date: '2026-12-10',
      time: '17:30:00',
      timezone: 'UTC',
    });
  });
});

describe('webhook signature', () => {
  const body = Buffer.from('{"data":{"webHookEvent":{"topic":"VISIT_CREATE"}}}');
  it('accepts the base64 HMAC-SHA256 of the exact body with the client secret, and nothing else', () => {
    const header = jobberSignature('secret', body);
    expect(header).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(validJobberSignature('secret', body, header)).toBe(true);
    expect(validJobberSignature('other', body, header)).toBe(false);
    expect(validJobberSignature('secret', Buffer.from(`${body.toString()} `), header)).toBe(false);
    expect(validJobberSignature('secret', body, undefined)).toBe(false);
    expect(validJobberSignature('secret', body, 'short')).toBe(false);
  });
});
