-- The tenant-level facts the conversation engine reads for every event (the tenant row, its policy
-- values, its catalog) are kept per process (src/runtime/tenant-facts.ts). Every change to them
-- bumps the tenant's counter here, by trigger, in the changing transaction, whatever path wrote it
-- (API, provisioning, a script). A process reads the counter in the round trip of its BEGIN and
-- uses its copy only while the counter has not moved. Platform-wide rows (policy values without a
-- tenant) and TRUNCATE bump the nil tenant's counter, which every tenant's reading adds in.

CREATE TABLE tenant_facts_versions (
  tenant_id uuid PRIMARY KEY,
  version bigint NOT NULL
);

CREATE FUNCTION tenant_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  column_name text := TG_ARGV[0];
  changed uuid[] := ARRAY[]::uuid[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    changed := ARRAY['00000000-0000-0000-0000-000000000000'::uuid];
  ELSE
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      changed := changed || COALESCE((to_jsonb(NEW) ->> column_name)::uuid, '00000000-0000-0000-0000-000000000000');
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      changed := changed || COALESCE((to_jsonb(OLD) ->> column_name)::uuid, '00000000-0000-0000-0000-000000000000');
    END IF;
  END IF;
  INSERT INTO tenant_facts_versions AS v (tenant_id, version)
  SELECT DISTINCT t, 1 FROM unnest(changed) AS t
  ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER id_tenants_facts AFTER INSERT OR UPDATE OR DELETE ON id_tenants
  FOR EACH ROW EXECUTE FUNCTION tenant_facts_changed('id');
CREATE TRIGGER id_tenants_facts_truncate AFTER TRUNCATE ON id_tenants
  FOR EACH STATEMENT EXECUTE FUNCTION tenant_facts_changed('id');
CREATE TRIGGER policy_values_facts AFTER INSERT OR UPDATE OR DELETE ON policy_values
  FOR EACH ROW EXECUTE FUNCTION tenant_facts_changed('tenant_id');
CREATE TRIGGER policy_values_facts_truncate AFTER TRUNCATE ON policy_values
  FOR EACH STATEMENT EXECUTE FUNCTION tenant_facts_changed('tenant_id');
CREATE TRIGGER catalog_services_facts AFTER INSERT OR UPDATE OR DELETE ON catalog_services
  FOR EACH ROW EXECUTE FUNCTION tenant_facts_changed('tenant_id');
CREATE TRIGGER catalog_services_facts_truncate AFTER TRUNCATE ON catalog_services
  FOR EACH STATEMENT EXECUTE FUNCTION tenant_facts_changed('tenant_id');
