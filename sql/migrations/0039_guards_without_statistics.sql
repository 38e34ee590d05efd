-- 0039_guards_without_statistics.sql — the booking and availability guards read their indexes whatever the
-- statistics say.
--
-- Each guard looks up what overlaps the new row (bookings and availability of one resource, through the GiST
-- indexes on (resource_id, period)). Its plans are made from the statistics of the moment: after an ANALYZE of
-- a nearly empty table the planner prefers a sequential scan, and a bulk load in one statement (a benchmark's
-- seed, an import) then scans every row already loaded for each new one. Measured: 20,000 bookings on 10
-- resources in 3.5 s without statistics, 57 s after an ANALYZE of the empty table — quadratic. With sequential
-- scans priced out inside the guards, the lookups use the index however small the table looked, and a load stays
-- linear; a lookup no index serves still runs (it is only priced last). tests/db/test_booking_store.c holds it.
ALTER FUNCTION bookings_guard() SET enable_seqscan = off;
ALTER FUNCTION availability_guard() SET enable_seqscan = off;
