-- 0012_plans: an index for every sort of every list, so that each page is read in index order from the
-- cursor on (the service's sessions run with enable_sort off: a list never sorts the organisation's rows).
-- Availability is listed per resource: its indexes are led by the resource.
CREATE INDEX key_events_name ON key_events (org_id, name, id);
CREATE INDEX calendar_feed_tokens_name ON calendar_feed_tokens (org_id, name, id);
CREATE INDEX workflows_name ON workflows (org_id, name, id);
CREATE INDEX approval_requests_updated ON approval_requests (org_id, updated_at, id);
CREATE INDEX availability_resource_start ON availability (resource_id, lower(period), id);
CREATE INDEX availability_resource_created ON availability (resource_id, created_at, id);
