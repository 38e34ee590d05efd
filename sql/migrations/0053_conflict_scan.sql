-- 0053_conflict_scan.sql — a portfolio scan reads the bookings of resources that are not exclusive: two live
-- bookings of an exclusive resource never overlap (bookings_no_overlap, 0005), so the scan reads those only where
-- they meet an unavailability or a blackout. This index finds the others without reading every booking of the
-- organisation's window.
CREATE INDEX bookings_org_period_shared ON bookings USING gist (org_id, period)
    WHERE NOT exclusive AND status <> 'cancelled';
