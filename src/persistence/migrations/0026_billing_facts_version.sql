-- The feature gates (a tenant's subscriptions and whether it is closed) join the tenant-level facts
-- kept per process (src/runtime/tenant-facts.ts): a change to a subscription bumps the tenant's
-- facts version, as changes to the tenant row, its policy and its catalog already do (0020).
CREATE TRIGGER bill_subscriptions_facts AFTER INSERT OR UPDATE OR DELETE ON bill_subscriptions
  FOR EACH ROW EXECUTE FUNCTION tenant_facts_changed('tenant_id');
CREATE TRIGGER bill_subscriptions_facts_truncate AFTER TRUNCATE ON bill_subscriptions
  FOR EACH STATEMENT EXECUTE FUNCTION tenant_facts_changed('tenant_id');
