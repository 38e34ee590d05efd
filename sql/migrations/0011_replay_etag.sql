-- 0011_replay_etag.sql — an idempotent replay answers the ETag the first response had: the version of the
-- document it returned, kept with the saved response (NULL for responses without a versioned document).
ALTER TABLE idempotency_keys ADD COLUMN etag_version integer;
