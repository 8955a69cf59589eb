-- The inbox's caller search (`caller LIKE '%…%'`) cannot seek a btree on its pattern: it walked
-- the inbox index and read each conversation from the heap to test its caller, or read every
-- conversation of the tenant (23 ms for 50,000 at the bench's scale). The inbox index now carries
-- the caller and the state, so the search walks it newest first, filters in the index alone and
-- reads only the page's rows (listConversations, src/persistence/repositories/conversations.ts).
-- No extension (pg_trgm) is needed, so any Postgres the system runs on has it.
DROP INDEX conv_conversations_inbox;
CREATE INDEX conv_conversations_inbox ON conv_conversations (tenant_id, last_activity_at DESC, id DESC)
  INCLUDE (caller, state);
