// Authorization decisions, in one place: role × action × scope. Every route names its action and
// the HTTP layer asks `can` before the handler runs.
//
// - OWNER: everything in its own tenant (users, billing, compliance, catalog, resources, and all TECH can do).
// - TECH: conversations and scheduling in its own tenant; reads the catalog.
// - STAFF: the platform's own people; only the staff API, across tenants (each call audited).

export type Role = 'OWNER' | 'TECH' | 'STAFF';
export const ROLES: readonly Role[] = ['OWNER', 'TECH', 'STAFF'];

export const ACTIONS = [
  'conversations.read',
  'conversations.operate',
  'conversations.assign',
  'conversations.note',
  'quick_replies.manage',
  'settings.manage',
  'catalog.read',
  'catalog.manage',
  'scheduling.read',
  'scheduling.book',
  'scheduling.manage',
  'users.read',
  'users.manage',
  'billing.manage',
  'compliance.manage',
  'stream.subscribe',
  'alerts.acknowledge',
  'alerts.settings',
  'calendars.read',
  'calendars.manage',
  'reports.read',
  'staff.tenants',
  'staff.dead_letters',
  'staff.compliance',
  'onboarding.read',
  'onboarding.manage',
] as const;

export type Action = (typeof ACTIONS)[number];

const TECH: readonly Action[] = [
  'conversations.read',
  'conversations.operate',
  // The team inbox: hand a conversation to a teammate, and write notes the caller never sees.
  'conversations.assign',
  'conversations.note',
  'catalog.read',
  'scheduling.read',
  'scheduling.book',
  'stream.subscribe',
  'alerts.acknowledge',
  // Each user their own alert phone and quiet hours (another user's is `users.manage`).
  'alerts.settings',
  // Connections' sync state and the conflicts they found (not the accounts' calendars).
  'calendars.read',
];
const OWNER: readonly Action[] = [
  ...TECH,
  'catalog.manage',
  // The business's saved replies (every operator reads them; the owner keeps the list).
  'quick_replies.manage',
  // What the assistant says first and whether the public booking page answers.
  'settings.manage',
  'scheduling.manage',
  'users.read',
  'users.manage',
  'billing.manage',
  'compliance.manage',
  // Connecting the owner's own calendar account to a resource, picking its calendars, backfills.
  'calendars.manage',
  // What the business gets for its money: the funnel, revenue, first-response latency.
  'reports.read',
  // How its onboarding ended (the wizard's last page asks once the checkout is paid).
  'onboarding.read',
];
const STAFF: readonly Action[] = ['staff.tenants', 'staff.dead_letters', 'staff.compliance'];

const GRANTS: Record<Role, ReadonlySet<Action>> = {
  OWNER: new Set(OWNER),
  TECH: new Set(TECH),
  STAFF: new Set(STAFF),
};

export function can(role: Role, action: Action): boolean {
  return GRANTS[role].has(action);
}

// A signed-in admin of an organisation that has no tenant yet is onboarding: the owner-to-be may
// use the onboarding routes and nothing else (there is no tenant to act on).
const ONBOARDING: ReadonlySet<Action> = new Set(['onboarding.read', 'onboarding.manage']);

export function canWhileOnboarding(action: Action): boolean {
  return ONBOARDING.has(action);
}

export type TenantRole = Exclude<Role, 'STAFF'>;

/**
 * Maps a token's role claim inside a tenant's organisation to a tenant role: Clerk's org roles, or
 * our role names as they are. Never STAFF: that is membership in the platform's own organisation.
 */
export function roleFromClaim(value: unknown): TenantRole | null {
  if (value === 'org:admin' || value === 'admin' || value === 'OWNER') return 'OWNER';
  if (value === 'org:member' || value === 'basic_member' || value === 'TECH') return 'TECH';
  return null;
}
