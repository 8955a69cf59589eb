import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, type PoolClient } from '../../../src/persistence/db.ts';
import { createService } from '../../../src/persistence/repositories/catalog.ts';
import { createResource } from '../../../src/persistence/repositories/scheduling/resources.ts';
import { cancelAppointment } from '../../../src/runtime/scheduling/cancel-appointment.ts';
import { confirmHold } from '../../../src/runtime/scheduling/confirm-hold.ts';
import { markAppointmentOutcome } from '../../../src/runtime/scheduling/mark-outcome.ts';
import { placeHold } from '../../../src/runtime/scheduling/place-hold.ts';
import type { SchedulingSettings } from '../../../src/runtime/scheduling/scheduling-settings.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { startBossForTests } from '../../helpers/engine.ts';

// Marking what became of an appointment, with a clock the test controls: only once it has started,
// only a live appointment, the same mark twice records once, the other mark corrects it.

const TZ = 'America/Chicago';
const ALL_DAY = [{ start: '00:00', end: '24:00' }];
const SETTINGS: SchedulingSettings = {
  slot_granularity_minutes: 60,
  min_notice_minutes: 0,
  buffer_minutes: 0,
  horizon_days: 14,
  allow_same_day: true,
  hold_ttl_minutes: 15,
};
const NOW = '2030-03-04T15:00:00.000Z';
const START = '2030-03-04T18:00:00.000Z';
const AFTER = '2030-03-04T19:30:00.000Z';

let database: TestDatabase;
let boss: PgBoss;
let tenantId: string;
let serviceId: string;
let resourceId: string;

const tx = <T>(fn: (client: PoolClient) => Promise<T>) => inTransaction(database.pool, fn);

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startBossForTests(database.url);
  tenantId = randomUUID();
  await database.pool.query('INSERT INTO id_tenants (id, slug, name, time_zone) VALUES ($1, $2, $2, $3)', [
    tenantId,
    `outcome-${tenantId.slice(0, 8)}`,
    TZ,
  ]);
  serviceId = (
    await createService(database.pool, tenantId, {
      name: 'Tune-up',
      duration_minutes: 60,
      price: { amount_cents: 9_900, currency: 'USD' },
    })
  ).id;
  const days = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, ALL_DAY]));
  resourceId = (
    await createResource(database.pool, tenantId, { name: 'Sam', time_zone: TZ, weekly_hours: days })
  ).id;
});
afterAll(async () => {
  await boss?.stop({ graceful: false });
  await database?.drop();
});

async function book(start: string): Promise<string> {
  return tx(async (client) => {
    const hold = await placeHold(client, {
      tenantId,
      serviceId,
      resourceId,
      start,
      now: NOW,
      holdTtlMinutes: 15,
      boss,
      settings: SETTINGS,
    });
    return (await confirmHold(client, { tenantId, holdId: hold.id, now: NOW })).id;
  });
}

const mark = (appointmentId: string, outcome: 'completed' | 'no_show', now = AFTER) =>
  tx((client) => markAppointmentOutcome(client, { tenantId, appointmentId, outcome, now }));

async function outcomeEvents(appointmentId: string): Promise<string[]> {
  const { rows } = await database.pool.query<{ outcome: string }>(
    `SELECT payload->>'outcome' AS outcome FROM outbox_events
     WHERE tenant_id = $1 AND event_name = 'nmc.scheduling.AppointmentOutcomeMarked'
       AND payload->>'appointment_id' = $2 ORDER BY occurred_at`,
    [tenantId, appointmentId],
  );
  return rows.map((r) => r.outcome);
}

describe('markAppointmentOutcome', () => {
  it('refuses before the start, marks after it, records a repeat once and a correction again', async () => {
    const id = await book(START);
    await expect(mark(id, 'completed', NOW)).rejects.toMatchObject({ code: 'conflict' });
    expect(await outcomeEvents(id)).toEqual([]);

    expect((await mark(id, 'completed')).status).toBe('completed');
    expect((await mark(id, 'completed')).status).toBe('completed');
    expect(await outcomeEvents(id)).toEqual(['completed']);
    expect((await mark(id, 'no_show')).status).toBe('no_show');
    expect(await outcomeEvents(id)).toEqual(['completed', 'no_show']);
  });

  it('a cancelled appointment has no outcome (409); a hold or an unknown id is not found', async () => {
    const id = await book('2030-03-04T20:00:00.000Z');
    await tx((client) => cancelAppointment(client, { tenantId, appointmentId: id, now: NOW }));
    await expect(mark(id, 'completed', '2030-03-04T22:00:00.000Z')).rejects.toMatchObject({
      code: 'conflict',
    });
    const hold = await tx((client) =>
      placeHold(client, {
        tenantId,
        serviceId,
        resourceId,
        start: '2030-03-04T22:00:00.000Z',
        now: NOW,
        holdTtlMinutes: 15,
        boss,
        settings: SETTINGS,
      }),
    );
    await expect(mark(hold.id, 'completed', '2030-03-05T00:00:00.000Z')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(mark(randomUUID(), 'completed')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('the database refuses an outcome on anything but a live appointment', async () => {
    const id = await book('2030-03-05T01:00:00.000Z');
    await tx((client) => cancelAppointment(client, { tenantId, appointmentId: id, now: NOW }));
    await expect(
      database.pool.query(
        `UPDATE sched_reservations SET outcome = 'completed', outcome_at = now() WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id],
      ),
    ).rejects.toMatchObject({ code: '23514' });
  });
});
