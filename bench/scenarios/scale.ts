import { performance } from 'node:perf_hooks';
import type { PoolClient } from 'pg';
import { parseE164 } from '../../src/domain/phone.ts';
import {
  initialSnapshot,
  reviveSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
} from '../../src/machines/conversation-snapshot.ts';
import { createPool, type Pool, type Queryable } from '../../src/persistence/db.ts';
import { migrate } from '../../src/persistence/migrate.ts';
import { listConversations } from '../../src/persistence/repositories/conversations.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { openDevIssuerFor } from '../../src/providers/auth/operator-auth.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { ensureQueues } from '../../src/runtime/job-queues.ts';
import { callerPool } from '../lib/callers.ts';
import type { Deadline } from '../lib/deadline.ts';
import { closedLoop, type LoadResult, percentile } from '../lib/load.ts';
import { fmt, ms, type Row, ratio, verdict } from '../lib/report.ts';
import { type BenchSystem, startBenchSystem } from '../lib/system.ts';
import { INBOUND_BODY } from './engine.ts';

// The system at scale: the same measurements on an empty database (just migrated, the demo tenant
// and one empty "large" tenant) and then on the same database grown to 5,000 tenants and 1,000,000
// conversations with their messages, so that what grows with the data shows as a ratio.
// - webhook: signed inbound-SMS webhooks to the demo tenant through the running system;
// - inbox: GET /api/v1/conversations?limit=25 for the large tenant (~50,000 conversations), the
//   same filtered by state=open, and a caller search (caller=555), with an OWNER token of its org.
// The rows are generated server-side (INSERT … SELECT over generate_series, in batches so the run's
// deadline is respected), in a database of their own, then VACUUMed and ANALYZEd: as after any bulk
// load, or autovacuum's first pass over two million fresh rows shares the two cores with the
// measurement (seen: the webhook P95 more than doubled while it ran). `pg-copy-streams` is not a
// dependency, and generating in the server avoids shipping a gigabyte through the client anyway.

export const SCALE_TENANTS = 5_000;
export const SCALE_CONVERSATIONS = 1_000_000;
export const LARGE_TENANT_CONVERSATIONS = 50_000;

/** The large tenant, present (empty) in the empty measurement too, so both runs ask the same. */
export const LARGE_TENANT = {
  n: 0,
  slug: 'scale-00000',
  auth_org_id: 'org_scale_00000',
  owner: 'user_scale_owner',
} as const;

const DAY_S = 86_400;
/** Conversations spread over 13 months, inside the metadata retention (396 days) so none is purged. */
const SPAN_DAYS = 390;
/** Messages only for conversations active in the message retention window (180 days). */
const MESSAGE_DAYS = 180;
/** Callers' area codes (the tenants' own numbers are on 737). */
const CALLER_AREAS = [
  '415',
  '510',
  '650',
  '408',
  '916',
  '213',
  '310',
  '312',
  '646',
  '212',
  '617',
  '206',
  '303',
  '512',
  '702',
  '305',
];
const TENANT_AREA = '737';
/** Odd and not a multiple of 5: i → i·M mod (16·800·10,000) is a permutation, so callers are distinct. */
const CALLER_MULTIPLIER = 2_654_435_761;
const BATCH = 100_000;

export type InboxQuery = 'all' | 'open' | 'caller';
export const INBOX_QUERIES: readonly { key: InboxQuery; label: string; query: string }[] = [
  { key: 'all', label: 'limit=25', query: 'limit=25' },
  { key: 'open', label: 'state=open&limit=25', query: 'state=open&limit=25' },
  { key: 'caller', label: 'caller=555&limit=25', query: 'caller=555&limit=25' },
];

export type ScaleMeasure = {
  webhook: LoadResult;
  inbox: Map<InboxQuery, LoadResult & { items: number }>;
};

export type ScaleGeneration = {
  ms: number;
  analyzeMs: number;
  conversationsMs: number;
  messagesMs: number;
  indexMs: number;
  /** Row counts after generation (the whole database, demo tenant and measurement traffic included). */
  rows: Record<string, number>;
  largeTenantConversations: number;
  databaseMb: number;
  complete: boolean;
  /** Snapshots read back and revived with the app's own reviveSnapshot, and callers re-parsed. */
  checked: { snapshots: number; snapshotErrors: number; callers: number; callerErrors: number };
  via: string;
};

export type ScaleResult = {
  target: { tenants: number; conversations: number; largeTenant: number };
  empty?: ScaleMeasure;
  generation?: ScaleGeneration;
  scale?: ScaleMeasure;
  /** EXPLAIN (ANALYZE, BUFFERS) of the inbox queries at scale, keyed by query. */
  explains: Map<InboxQuery, string>;
  notes: string[];
};

export type ScaleOptions = {
  conversations: number;
  deadline: Deadline;
  webhookRequests?: number;
  webhookConcurrency?: number;
  inboxRequests?: number;
  inboxConcurrency?: number;
  log?: (message: string) => void;
  /** Time the measurement at scale and what follows need; generation stops early to leave it. */
  reserveMs?: number;
};

/** The sizes for `conversations` conversations (defaults: 5,000 tenants, 50,000 in the large one). */
export function scaleTarget(conversations: number): ScaleResult['target'] {
  const tenants = Math.max(
    2,
    Math.min(SCALE_TENANTS, Math.round((conversations / SCALE_CONVERSATIONS) * SCALE_TENANTS)),
  );
  const largeTenant = Math.min(LARGE_TENANT_CONVERSATIONS, Math.floor(conversations * 0.05));
  return { tenants, conversations, largeTenant };
}

// ── the run ───────────────────────────────────────────────────────────────────────────────────────

/** Fills `result` as it goes, so a hard stop still reports what was measured. */
export async function runScale(url: string, options: ScaleOptions, result: ScaleResult): Promise<void> {
  const log = options.log ?? (() => undefined);
  const pool = createPool(url, { max: 4, applicationName: 'nmc-bench-scale' });
  try {
    await prepare(pool, url);
    log('scale: measuring on the empty database');
    result.empty = await withSystem(url, (bench) => measure(bench, options));
    log('scale: generating');
    result.generation = await generate(
      pool,
      result.target,
      options.deadline,
      options.reserveMs ?? 60_000,
      log,
    );
    log(
      `scale: generated ${result.generation.rows.conv_conversations} conversations, ${result.generation.rows.conv_messages} messages in ${(result.generation.ms / 1000).toFixed(0)} s`,
    );
    result.scale = await withSystem(url, (bench) => measure(bench, options));
    for (const q of INBOX_QUERIES) result.explains.set(q.key, await explainInbox(pool, q.key));
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function withSystem<T>(url: string, fn: (bench: BenchSystem) => Promise<T>): Promise<T> {
  // The operator API is rate limited per tenant (600/min by default); the measurement sends more.
  const bench = await startBenchSystem(url, { RATE_LIMIT_PER_MINUTE: '1000000' });
  try {
    return await fn(bench);
  } finally {
    await bench.stop();
  }
}

/** Migrated schema, pg-boss schema and queues, and the (empty) large tenant with its campaign. */
async function prepare(pool: Pool, url: string): Promise<void> {
  await migrate(pool);
  const boss = createBoss({ connectionString: url, supervise: false, max: 2 });
  boss.on('error', () => undefined);
  await boss.start();
  try {
    await ensureQueues(boss);
  } finally {
    await boss.stop({ graceful: false }).catch(() => undefined);
  }
  await pool.query(`${TENANTS_SQL} ON CONFLICT (slug) DO NOTHING`, [0, 0]);
  await pool.query(`${CAMPAIGNS_SQL} ON CONFLICT (tenant_id) DO NOTHING`, [0, 0]);
}

// ── measurements (the same code on the empty database and at scale) ───────────────────────────────

let webhookCallers: ((index: number) => string) | undefined;
let webhookIndex = 0;

async function measure(bench: BenchSystem, options: ScaleOptions): Promise<ScaleMeasure> {
  webhookCallers ??= callerPool('707');
  const caller = webhookCallers;
  const sms = async (from: string) => {
    const { response } = await bench.phone.sms({ from, to: DEMO.twilio_number, body: INBOUND_BODY });
    if (response.status !== 200)
      throw new Error(`sms webhook answered ${response.status}: ${response.body.slice(0, 120)}`);
  };
  // Warm-up, which also gives 16 callers a conversation: one request in four comes from them.
  const existing: string[] = [];
  for (let i = 0; i < 16; i++) {
    const from = caller(webhookIndex++);
    existing.push(from);
    await sms(from);
  }
  const webhook = await closedLoop({
    concurrency: options.webhookConcurrency ?? 8,
    durationMs: 120_000,
    maxOps: options.webhookRequests ?? 300,
    firstIndex: webhookIndex,
    task: (i) => sms(i % 4 === 0 ? (existing[(i / 4) % existing.length] as string) : caller(i)),
  });
  webhookIndex = webhook.nextIndex;
  // The inbox is measured on a settled system: the webhooks' replies (sent a few seconds later),
  // their callbacks and outbox deliveries would otherwise land in the middle of it, and more of
  // them the slower it goes.
  await bench.settle(30_000);
  bench.sandbox.reset();

  const issuer = await openDevIssuerFor(bench.system.config);
  const token = await issuer.mint({
    subject: LARGE_TENANT.owner,
    org: LARGE_TENANT.auth_org_id,
    role: 'OWNER',
  });
  const inbox = new Map<InboxQuery, LoadResult & { items: number }>();
  for (const q of INBOX_QUERIES) {
    let items = 0;
    const get = async () => {
      const response = await fetch(`${bench.baseUrl}/api/v1/conversations?${q.query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`inbox answered ${response.status}: ${text.slice(0, 120)}`);
      items = (JSON.parse(text) as { items: unknown[] }).items.length;
    };
    for (let i = 0; i < 10; i++) await get(); // warm-up
    const r = await closedLoop({
      concurrency: options.inboxConcurrency ?? 4,
      durationMs: 120_000,
      maxOps: options.inboxRequests ?? 200,
      task: get,
    });
    inbox.set(q.key, { ...r, items });
  }
  return { webhook, inbox };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the very statement listConversations sends for this query. */
export async function explainInbox(pool: Pool, key: InboxQuery): Promise<string> {
  const { rows: tenants } = await pool.query<{ id: string }>('SELECT id FROM id_tenants WHERE slug = $1', [
    LARGE_TENANT.slug,
  ]);
  const tenantId = tenants[0]?.id;
  if (!tenantId) return 'large tenant missing';
  let captured: { text: string; values: unknown[] } | undefined;
  const recorder = {
    query: async (text: string, values?: unknown[]) => {
      captured = { text, values: values ?? [] };
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Queryable;
  await listConversations(recorder, {
    tenantId,
    ...(key === 'open' ? { state: 'open' } : {}),
    ...(key === 'caller' ? { callerContains: '555' } : {}),
    limit: 26, // the route asks for one more than the page
  });
  if (!captured) return 'no statement captured';
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, BUFFERS) ${captured.text}`,
    captured.values,
  );
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

// ── generation ────────────────────────────────────────────────────────────────────────────────────

// Tenant n (0 = the large tenant) has a deterministic id, so conversations need no join to find it.
const TENANT_ID = (n: string) => `md5('nmc-bench-scale-tenant-' || ${n})::uuid`;

const TENANTS_SQL = `INSERT INTO id_tenants (id, slug, name, time_zone, auth_org_id, twilio_number, settings)
  SELECT ${TENANT_ID('n')}, 'scale-' || lpad(n::text, 5, '0'), 'Scale Business ' || n,
         (ARRAY['America/New_York','America/Chicago','America/Denver','America/Los_Angeles'])[1 + n % 4],
         'org_scale_' || lpad(n::text, 5, '0'),
         '+1${TENANT_AREA}' || (200 + n % 800)::text || lpad((n / 800)::text, 4, '0'), '{}'::jsonb
  FROM generate_series($1::int, $2::int) AS n`;

const CAMPAIGNS_SQL = `INSERT INTO comp_campaigns (tenant_id, status, details)
  SELECT ${TENANT_ID('n')}, 'approved', '{}'::jsonb FROM generate_series($1::int, $2::int) AS n`;

// Conversation i: its caller is a scrambled (bijective) function of i, so digits are spread as in
// real numbers. The first `large` go to tenant 0, the others to tenants 1..T-1 with a skew (a few
// busy businesses, a long tail). Last activity spread over 13 months, denser recently; a
// conversation active in the last two days is usually still open or with a person, older ones are
// closed (1% blocked by an opt-out). Callers are distinct valid US numbers, so the
// one-active-conversation-per-caller index never conflicts. The snapshot is initialSnapshot()'s
// context with what the lifecycle would have set.
const CONVERSATIONS_SQL = `INSERT INTO conv_conversations
  (tenant_id, id, caller, state, assigned_to, snapshot, snapshot_schema_version, version,
   last_message_at, last_activity_at, created_at, closed_at, message_seq)
SELECT tenant_id, id, caller, state, assigned_to,
  jsonb_build_object('value', state, 'context', $5::jsonb || jsonb_build_object(
    'assignedTo', assigned_to,
    'lastGreetingAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'acknowledged', state <> 'open' OR r_len < 0.5,
    'missedCalls', 1 + (r_len * 10)::int % 2,
    'timerToken', 1 + (r_len * 100)::int % 3,
    'blockedReason', CASE WHEN state = 'blocked' THEN 'opted_out' END,
    'closedReason', CASE WHEN state = 'closed' THEN 'inactivity' END)),
  $6::int, 2 + (r_len * 1000)::int % 6,
  last_activity_at, last_activity_at, created_at,
  CASE WHEN state = 'closed' THEN last_activity_at END,
  2 + abs(hashtext(id::text)) % 4
FROM (
  SELECT ${TENANT_ID('tn')} AS tenant_id, gen_random_uuid() AS id,
    '+1' || (ARRAY['${CALLER_AREAS.join("','")}'])[1 + k % ${CALLER_AREAS.length}]
         || (200 + (k / ${CALLER_AREAS.length}) % 800)::text
         || lpad((k / ${CALLER_AREAS.length * 800})::text, 4, '0') AS caller,
    CASE WHEN age_s < 2 * ${DAY_S}
           THEN CASE WHEN r_state < 0.6 THEN 'open' WHEN r_state < 0.8 THEN 'human' ELSE 'closed' END
         WHEN r_state < 0.01 THEN 'blocked' ELSE 'closed' END AS state,
    CASE WHEN age_s < 2 * ${DAY_S} AND r_state >= 0.6 AND r_state < 0.8
         THEN md5('operator-' || tn)::uuid::text END AS assigned_to,
    now() - make_interval(secs => age_s) AS last_activity_at,
    now() - make_interval(secs => age_s + r_len * 2 * ${DAY_S}) AS created_at,
    r_len
  FROM (
    SELECT i, (i::bigint * ${CALLER_MULTIPLIER}) % ${CALLER_AREAS.length * 800 * 10_000} AS k,
      CASE WHEN i <= $3 THEN 0 ELSE 1 + floor(($4 - 1) * power(random(), 2))::int END AS tn,
      ${SPAN_DAYS * DAY_S} * power(random(), 1.3) AS age_s, random() AS r_state, random() AS r_len
    FROM generate_series($1::int, $2::int) AS i
  ) g
) c`;

// 2–5 messages (3.5 on average) for each conversation active in the last 180 days: the greeting,
// the caller's reply, then the assistant and the caller in turn, spread over its lifetime. Older
// conversations' messages are past their retention and would have been purged. With triggers off
// for the load, each message's sequence number is set here, and each conversation's counter
// (message_seq, above) already covers the most messages it can get.
const MESSAGES_SQL = `INSERT INTO conv_messages
  (tenant_id, id, conversation_id, seq, direction, participant, purpose, body, status, provider_sid, attempts,
   created_at, updated_at)
SELECT c.tenant_id, gen_random_uuid(), c.id, j,
  CASE WHEN j % 2 = 1 THEN 'out' ELSE 'in' END,
  CASE WHEN j % 2 = 1 THEN 'assistant' ELSE 'caller' END,
  CASE WHEN j = 1 THEN 'greeting' WHEN j % 2 = 1 THEN 'assistant' END,
  (ARRAY['Sorry we missed your call! This is {biz}. How can we help?',
         'Hi, I have a clogged drain, can someone come out this week?',
         'We can do Drain cleaning for $150.00. Open times: Tue 9:00, Tue 11:00, Wed 14:00. Reply 1, 2 or 3.',
         '2',
         'You are booked for Tue 11:00. Reply C to cancel.'])[1 + (j - 1) % 5],
  CASE WHEN j % 2 = 1 THEN 'delivered' ELSE 'received' END,
  'SM' || md5(c.id::text || j::text),
  CASE WHEN j % 2 = 1 THEN 1 ELSE 0 END,
  c.created_at + (c.last_activity_at - c.created_at) * ((j - 1)::float8 / 4),
  c.created_at + (c.last_activity_at - c.created_at) * ((j - 1)::float8 / 4)
FROM conv_conversations c
CROSS JOIN LATERAL generate_series(1, 2 + abs(hashtext(c.id::text)) % 4) AS j
WHERE c.tenant_id = ANY($1::uuid[]) AND c.last_activity_at >= now() - interval '${MESSAGE_DAYS} days'`;

async function generate(
  pool: Pool,
  target: ScaleResult['target'],
  deadline: Deadline,
  reserveMs: number,
  log: (message: string) => void,
): Promise<ScaleGeneration> {
  const started = performance.now();
  const client = await pool.connect();
  let complete = true;
  let via = 'INSERT … SELECT FROM generate_series (server-side), batches of 100,000';
  try {
    // A bulk load: no wait for the WAL flush per batch, room for sorts and index builds. Foreign
    // keys are not checked when the role may skip triggers (the rows are consistent by construction).
    await client.query(
      "SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; SET work_mem = '64MB'",
    );
    try {
      await client.query('SET session_replication_role = replica');
      via += ', triggers (foreign-key checks) off';
    } catch {
      // not a superuser: foreign keys are checked row by row
    }
    // Secondary indexes are dropped for the load and built again afterwards (a sort each, much
    // faster than a million random inserts into each); the definitions are the migrations' own.
    const { rows: secondary } = await client.query<{ name: string; def: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
       WHERE t.relname = ANY($1::text[]) AND pg_table_is_visible(t.oid)
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
       ORDER BY 1`,
      [['conv_conversations', 'conv_messages']],
    );
    for (const index of secondary) await client.query(`DROP INDEX ${index.name}`);
    via += `, ${secondary.length} secondary indexes built after the load`;
    await client.query(TENANTS_SQL, [1, target.tenants - 1]);
    await client.query(CAMPAIGNS_SQL, [1, target.tenants - 1]);
    // Blocked conversations have the opt-out that blocked them (added with the conversations).
    const base = JSON.stringify(initialSnapshot().context);
    const convStarted = performance.now();
    let done = 0;
    while (done < target.conversations) {
      const batchStarted = performance.now();
      const to = Math.min(target.conversations, done + BATCH);
      await client.query(CONVERSATIONS_SQL, [
        done + 1,
        to,
        target.largeTenant,
        target.tenants,
        base,
        SNAPSHOT_SCHEMA_VERSION,
      ]);
      done = to;
      const batchMs = performance.now() - batchStarted;
      // Stop when the next batch (and its messages, ~1.5× as long) would eat the reserve.
      if (done < target.conversations && deadline.remainingMs() < reserveMs + 3 * batchMs) {
        complete = false;
        log(`scale: stopping generation at ${done} conversations (deadline)`);
        break;
      }
    }
    const conversationsMs = performance.now() - convStarted;
    await client.query(
      `INSERT INTO comp_opt_outs (tenant_id, phone, source, opted_out_at)
       SELECT tenant_id, caller, 'keyword', last_activity_at FROM conv_conversations WHERE state = 'blocked'
       ON CONFLICT DO NOTHING`,
    );
    const msgStarted = performance.now();
    // Per tenant group, so the statement is not one long transaction over a million rows.
    const { rows: tenantRows } = await client.query<{ id: string }>(
      `SELECT ${TENANT_ID('n')} AS id FROM generate_series(0, $1::int - 1) AS n`,
      [target.tenants],
    );
    const tenantIds = tenantRows.map((r) => r.id);
    const groups = Math.max(1, Math.round(done / BATCH));
    for (let g = 0; g < groups; g++) {
      const batchStarted = performance.now();
      const group = tenantIds.filter((_, i) => i % groups === g);
      await client.query(MESSAGES_SQL, [group]);
      const batchMs = performance.now() - batchStarted;
      if (g < groups - 1 && deadline.remainingMs() < reserveMs + 2 * batchMs) {
        complete = false;
        log(`scale: stopping messages after ${g + 1} of ${groups} tenant groups (deadline)`);
        break;
      }
    }
    const messagesMs = performance.now() - msgStarted;
    await client.query('RESET session_replication_role').catch(() => undefined);
    const indexStarted = performance.now();
    for (const index of secondary) await client.query(index.def);
    const indexMs = performance.now() - indexStarted;
    const analyzeStarted = performance.now();
    await client.query('VACUUM (ANALYZE)');
    const analyzeMs = performance.now() - analyzeStarted;
    const ms = performance.now() - started;

    const rows: Record<string, number> = {};
    for (const table of [
      'id_tenants',
      'comp_campaigns',
      'comp_opt_outs',
      'conv_conversations',
      'conv_messages',
    ]) {
      const { rows: r } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      rows[table] = r[0]?.n ?? 0;
    }
    const { rows: large } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM conv_conversations WHERE tenant_id = ${TENANT_ID('0')}`,
    );
    const { rows: size } = await client.query<{ mb: number }>(
      'SELECT (pg_database_size(current_database()) / 1048576)::int AS mb',
    );
    return {
      ms,
      analyzeMs,
      conversationsMs,
      messagesMs,
      indexMs,
      rows,
      largeTenantConversations: large[0]?.n ?? 0,
      databaseMb: size[0]?.mb ?? 0,
      complete,
      checked: await check(client),
      via,
    };
  } finally {
    client.release();
  }
}

/** Reads a sample back through the app's own rules: snapshots revive, callers parse as E.164. */
async function check(client: PoolClient): Promise<ScaleGeneration['checked']> {
  const { rows } = await client.query<{ snapshot: unknown; v: number; caller: string }>(
    `SELECT snapshot, snapshot_schema_version AS v, caller FROM conv_conversations TABLESAMPLE SYSTEM (1) LIMIT 2000`,
  );
  let snapshotErrors = 0;
  let callerErrors = 0;
  for (const row of rows) {
    try {
      reviveSnapshot(row.snapshot, row.v);
    } catch {
      snapshotErrors += 1;
    }
    if (parseE164(row.caller) !== row.caller) callerErrors += 1;
  }
  return { snapshots: rows.length, snapshotErrors, callers: rows.length, callerErrors };
}

// ── the table ─────────────────────────────────────────────────────────────────────────────────────

export const WEBHOOK_RATIO_GOAL = 1.5;
export const INBOX_P95_GOAL_MS = 50;

export function scaleRows(result: ScaleResult): { rows: Row[]; notes: string[] } {
  const rows: Row[] = [];
  const notes: string[] = [...result.notes];
  const g = result.generation;
  const conversations = g ? (g.rows.conv_conversations ?? 0) : result.target.conversations;
  const large = g ? g.largeTenantConversations : result.target.largeTenant;
  const at = `at ${fmt(conversations)} conversations`;
  if (g) {
    rows.push({
      scenario: 'Scale',
      measure: `generate ${fmt(g.rows.id_tenants ?? 0)} tenants (+ approved campaigns), ${fmt(conversations)} conversations (${fmt(large)} in the large tenant), ${fmt(g.rows.conv_messages ?? 0)} messages, ${fmt(g.rows.comp_opt_outs ?? 0)} opt-outs; then VACUUM (ANALYZE)`,
      value: `${fmt(g.ms / 1000, 1)} s (conversations ${fmt(g.conversationsMs / 1000, 1)} s, messages ${fmt(g.messagesMs / 1000, 1)} s, indexes ${fmt(g.indexMs / 1000, 1)} s, VACUUM (ANALYZE) ${fmt(g.analyzeMs / 1000, 1)} s); database ${fmt(g.databaseMb)} MB${g.complete ? '' : ` — stopped early by the deadline (target ${fmt(result.target.conversations)})`}`,
      baseline: '',
      ratio: '',
      goal: '',
      result: '',
    });
    notes.push(
      `scale data: ${g.via}; row counts include the demo tenant and the measurement traffic; a sample of ${fmt(g.checked.snapshots)} stored snapshots revived with reviveSnapshot (${g.checked.snapshotErrors} failed) and ${fmt(g.checked.callers)} callers re-parsed as E.164 (${g.checked.callerErrors} failed); messages exist only for conversations active in the last 180 days (older ones are past message retention)`,
    );
  }
  const empty = result.empty;
  const scale = result.scale;
  if (empty && scale) {
    const w = scale.webhook;
    const we = empty.webhook;
    const p95 = percentile(w.latenciesMs, 95);
    const p95e = percentile(we.latenciesMs, 95);
    rows.push({
      scenario: 'Scale',
      measure: `signed inbound-SMS webhook to the demo tenant, ${fmt(w.ok + w.errors)} requests @c8, P95 ${at}`,
      value: `${ms(p95)} (P50 ${ms(percentile(w.latenciesMs, 50))}, ${fmt(w.perSecond)} req/s${w.errors ? `, ${w.errors} errors: ${w.firstError}` : ''})`,
      baseline: `empty database: P95 ${ms(p95e)} (P50 ${ms(percentile(we.latenciesMs, 50))}${we.errors ? `, ${we.errors} errors` : ''})`,
      ratio: ratio(p95, p95e),
      goal: `≤ ${fmt(WEBHOOK_RATIO_GOAL, 2)}×`,
      result: verdict(p95 / p95e <= WEBHOOK_RATIO_GOAL && w.errors === 0),
    });
    for (const q of INBOX_QUERIES) {
      const r = scale.inbox.get(q.key);
      const e = empty.inbox.get(q.key);
      if (!r || !e) continue;
      const p = percentile(r.latenciesMs, 95);
      const pe = percentile(e.latenciesMs, 95);
      const pass = p <= INBOX_P95_GOAL_MS && r.errors === 0;
      rows.push({
        scenario: 'Scale',
        measure: `operator inbox GET /api/v1/conversations?${q.label}, large tenant (${fmt(large)} conversations), ${fmt(r.ok + r.errors)} requests @c4, P95 ${at}`,
        value: `${ms(p)} (P50 ${ms(percentile(r.latenciesMs, 50))}, ${r.items} items${r.errors ? `, ${r.errors} errors: ${r.firstError}` : ''})`,
        baseline: `empty database: P95 ${ms(pe)} (0 conversations)`,
        ratio: ratio(p, pe),
        goal: `≤ ${INBOX_P95_GOAL_MS} ms`,
        result: verdict(pass),
      });
      const plan = result.explains.get(q.key);
      if (!pass && plan) {
        const indented = plan
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n');
        notes.push(
          `inbox ?${q.label} missed its goal at scale; EXPLAIN (ANALYZE, BUFFERS) of the statement listConversations sends:\n\n  \`\`\`\n${indented}\n  \`\`\``,
        );
      }
    }
    const planned = INBOX_QUERIES.flatMap((q) => {
      const plan = result.explains.get(q.key);
      if (!plan) return [];
      const lines = plan.split('\n');
      const time = /Execution Time: ([\d.]+ ms)/.exec(plan)?.[1] ?? '?';
      const scan = lines
        .find((l) => /Scan on|Scan using/.test(l))
        ?.replace(/\s*\(.*$/, '')
        .replace(/^[\s>-]+/, '');
      return [`?${q.label} ${time} (${scan ?? lines[0]?.trim() ?? '?'})`];
    });
    if (planned.length > 0)
      notes.push(
        `scale: the inbox statements alone at scale, EXPLAIN ANALYZE execution time: ${planned.join('; ')}`,
      );
    notes.push(
      'scale: each measurement starts the system afresh on the scale database (startSystem, Twilio sandbox), with RATE_LIMIT_PER_MINUTE raised so the 600 inbox requests are not throttled; webhooks: 16 warm-up callers, then new callers except one request in four from those 16; inbox: OWNER token minted with the dev issuer for the large tenant, 10 warm-up requests per query; the send queue is drained between webhooks and inbox',
    );
  } else if (empty) {
    rows.push({
      scenario: 'Scale',
      measure: 'empty database only',
      value: `webhook P95 ${ms(percentile(empty.webhook.latenciesMs, 95))}; inbox P95 ${INBOX_QUERIES.map((q) => `${q.key} ${ms(percentile(empty.inbox.get(q.key)?.latenciesMs ?? [], 95))}`).join(', ')}`,
      baseline: '',
      ratio: '',
      goal: '',
      result: '',
    });
  }
  return { rows, notes };
}
