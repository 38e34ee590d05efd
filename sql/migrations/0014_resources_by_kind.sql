-- 0014_resources_by_kind.sql — an organisation's resources of one kind, by name.
--
-- Two hot statements look for resources of a kind: a booking's alternatives (other resources of its kind, by
-- name, the first 3 free ones: service/conflict_store.c) and the capacity dashboard (the people). Without this
-- index their generic plans read every resource of the organisation through resources_name and filtered them
-- (tests/db/test_plans.c names the index each must read).
CREATE INDEX resources_kind ON resources (org_id, kind, name, id);
