-- The API documents of campaigns and segments are now built inside each
-- statement (service/*_store.c) so their plans are cached with the prepared
-- statement; these helpers are no longer used.
DROP FUNCTION campaign_json(campaigns);
DROP FUNCTION segment_json(segments);
DROP FUNCTION ts_json(timestamptz);
