import type { PgBoss } from 'pg-boss';

// Every queue the system uses, created up front at start (dead-letter queues first, since a queue
// names its dead-letter queue). Provider failures of sends follow our own backoff formula
// (src/domain/backoff.ts): the send job re-enqueues itself with the computed delay. pg-boss's own
// retry (after expiry) only covers a worker that died or lost its database mid-job.

export const QUEUES = {
  smsSend: 'sms-send',
  smsSendDead: 'sms-send-dead',
  conversationTimer: 'conversation-timer',
  conversationTimerDead: 'conversation-timer-dead',
  outboxWake: 'outbox-wake',
  maintenance: 'maintenance',
  holdExpiry: 'hold-expiry',
  smsStatusPoll: 'sms-status-poll',
  alertSend: 'alert-send',
  alertSendDead: 'alert-send-dead',
  alertReminder: 'alert-reminder',
  calendarSync: 'calendar-sync',
  calendarWrite: 'calendar-write',
  calendarWriteDead: 'calendar-write-dead',
  calendarSweep: 'calendar-sweep',
  provisioningConverge: 'provisioning-converge',
  provisioningConvergeDead: 'provisioning-converge-dead',
  provisioningReconcile: 'provisioning-reconcile',
  appointmentReminder: 'appointment-reminder',
  appointmentSweep: 'appointment-sweep',
} as const;

type QueueSpec = {
  name: string;
  deadLetter?: string;
  retryLimit: number;
  notify: boolean;
  expireInSeconds?: number;
  /** `stately`: at most one queued and one running job per singleton key (coalescing). */
  policy?: 'stately';
};

export const QUEUE_SPECS: QueueSpec[] = [
  { name: QUEUES.smsSendDead, retryLimit: 0, notify: false },
  { name: QUEUES.conversationTimerDead, retryLimit: 0, notify: false },
  // The lease of a send: the provider's timeout (4 s, src/providers/twilio/client.ts) and the
  // database work around it. A worker that dies mid-send loses its jobs to the next monitor pass
  // (every 2 s, boss.ts) after at most this long; the retry checks the provider before sending again.
  { name: QUEUES.smsSend, deadLetter: QUEUES.smsSendDead, retryLimit: 3, notify: true, expireInSeconds: 6 },
  { name: QUEUES.conversationTimer, deadLetter: QUEUES.conversationTimerDead, retryLimit: 5, notify: true },
  { name: QUEUES.maintenance, retryLimit: 2, notify: false },
  // Delayed to each hold's expires_at; only tells the conversation. Availability never waits for it.
  { name: QUEUES.smsStatusPoll, retryLimit: 3, notify: false },
  { name: QUEUES.holdExpiry, retryLimit: 5, notify: false },
  // Alert texts to the team: sent like conversation texts (own backoff, then the dead-letter queue);
  // reminders are delayed jobs that do nothing once the alert is acknowledged.
  { name: QUEUES.alertSendDead, retryLimit: 0, notify: false },
  {
    name: QUEUES.alertSend,
    deadLetter: QUEUES.alertSendDead,
    retryLimit: 3,
    notify: true,
    expireInSeconds: 30,
  },
  { name: QUEUES.alertReminder, retryLimit: 5, notify: false },
  // Calendars: one queued sync per calendar at a time (the singleton key is the calendar), so ten
  // pushes while a sync waits or runs make one more sync, not ten. Provider failures of syncs and
  // write-backs follow our own backoff (the job re-sends itself); writes that keep failing go to
  // their dead-letter queue.
  { name: QUEUES.calendarSync, retryLimit: 2, notify: true, expireInSeconds: 300, policy: 'stately' },
  { name: QUEUES.calendarWriteDead, retryLimit: 0, notify: false },
  {
    name: QUEUES.calendarWrite,
    deadLetter: QUEUES.calendarWriteDead,
    retryLimit: 2,
    notify: true,
    expireInSeconds: 120,
  },
  { name: QUEUES.calendarSweep, retryLimit: 0, notify: false },
  // Convergence: one queued and one running run per tenant (the singleton key is the tenant).
  // Provider failures are the steps' own backoff (src/runtime/provisioning/converge.ts); pg-boss's
  // retries only cover a run whose database went away, then its dead-letter queue.
  { name: QUEUES.provisioningConvergeDead, retryLimit: 0, notify: false },
  {
    name: QUEUES.provisioningConverge,
    deadLetter: QUEUES.provisioningConvergeDead,
    retryLimit: 3,
    notify: true,
    expireInSeconds: 600,
    policy: 'stately',
  },
  { name: QUEUES.provisioningReconcile, retryLimit: 1, notify: false, expireInSeconds: 1800 },
  // Appointment care: reminders are delayed jobs (their id is the appointment, start and offset);
  // the sweep completes appointments nobody marked.
  { name: QUEUES.appointmentReminder, retryLimit: 3, notify: false },
  { name: QUEUES.appointmentSweep, retryLimit: 0, notify: false },
];

export async function ensureQueues(boss: PgBoss): Promise<void> {
  for (const spec of QUEUE_SPECS) {
    const options = {
      retryLimit: spec.retryLimit,
      ...(spec.retryLimit > 0 ? { retryBackoff: true, retryDelay: 1, retryDelayMax: 30 } : {}),
      notify: spec.notify,
      ...(spec.expireInSeconds ? { expireInSeconds: spec.expireInSeconds } : {}),
      ...(spec.deadLetter ? { deadLetter: spec.deadLetter } : {}),
    };
    const existing = await boss.getQueue(spec.name);
    // A queue's policy is fixed when it is created (pg-boss refuses to change it).
    if (existing) await boss.updateQueue(spec.name, options);
    else await boss.createQueue(spec.name, { ...options, ...(spec.policy ? { policy: spec.policy } : {}) });
  }
}
