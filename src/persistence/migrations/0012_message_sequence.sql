-- A conversation's transcript order. A caller's text and the assistant's reply are written in one
-- transaction and share its created_at, so time alone cannot order them; each message takes the
-- next number of its conversation's counter when it is inserted. The counter lives on the
-- conversation row: incrementing it locks that row, so two inserts never take the same number
-- (dispatch holds that lock already), and the trigger covers every insert path, present and future.

ALTER TABLE conv_conversations ADD COLUMN message_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE conv_messages ADD COLUMN seq bigint;

-- Existing messages keep the order they were listed in before: created_at, then id.
UPDATE conv_messages m SET seq = numbered.seq
FROM (
  SELECT tenant_id, id,
         row_number() OVER (PARTITION BY tenant_id, conversation_id ORDER BY created_at, id) AS seq
  FROM conv_messages
) numbered
WHERE m.tenant_id = numbered.tenant_id AND m.id = numbered.id;

UPDATE conv_conversations c SET message_seq = last.seq
FROM (SELECT tenant_id, conversation_id, max(seq) AS seq FROM conv_messages GROUP BY tenant_id, conversation_id) last
WHERE c.tenant_id = last.tenant_id AND c.id = last.conversation_id;

ALTER TABLE conv_messages ALTER COLUMN seq SET NOT NULL;

CREATE FUNCTION conv_messages_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE conv_conversations SET message_seq = message_seq + 1
  WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id
  RETURNING message_seq INTO NEW.seq;
  RETURN NEW;
END
$$;

CREATE TRIGGER conv_messages_seq BEFORE INSERT ON conv_messages
  FOR EACH ROW EXECUTE FUNCTION conv_messages_assign_seq();

-- The transcript reads by sequence; this index replaces the one by (created_at, id).
DROP INDEX conv_messages_conversation;
CREATE UNIQUE INDEX conv_messages_sequence ON conv_messages (tenant_id, conversation_id, seq);
