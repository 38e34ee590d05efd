-- 0009_representable_dates.sql — every stored date and period can be written by every output: JSON (RFC 3339,
-- periods in UTC) and the iCalendar feed (4-digit years; an all-day event ends the day after its inclusive end
-- date, so 9999-12-31 would need DTEND 10000-01-01). A time with an offset such as 9999-12-31T20:00:00-14:00 is
-- year 10000 in UTC.
--   dates (campaigns, key events):      1900-01-01 .. 9999-12-30
--   periods (bookings, availability):   [1900-01-01T00:00:00Z, 10000-01-01T00:00:00Z)
-- The C validators say the same in their 422 messages; these constraints hold for every writer.
-- Rows written before this migration that break the rule (nothing could write them through the API's validators
-- except an offset pushing a time past 9999) are kept: each constraint is added NOT VALID, so every new or changed
-- row is checked, and is validated at once when no existing row breaks it; the feed clamps what remains.

CREATE FUNCTION date_representable(d date) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT d BETWEEN DATE '1900-01-01' AND DATE '9999-12-30'
$$;

CREATE FUNCTION period_representable(p tstzrange) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(p) >= TIMESTAMPTZ '1900-01-01 00:00:00+00' AND upper(p) < TIMESTAMPTZ '10000-01-01 00:00:00+00'
$$;

ALTER TABLE campaigns ADD CONSTRAINT campaigns_dates_representable
    CHECK (date_representable(start_date) AND date_representable(end_date)) NOT VALID;
ALTER TABLE key_events ADD CONSTRAINT key_events_dates_representable
    CHECK (date_representable(start_date) AND date_representable(end_date)) NOT VALID;
ALTER TABLE bookings ADD CONSTRAINT bookings_period_representable CHECK (period_representable(period)) NOT VALID;
ALTER TABLE availability ADD CONSTRAINT availability_period_representable
    CHECK (period_representable(period)) NOT VALID;

DO $$
DECLARE
    c record;
    broken bigint;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('campaigns', 'campaigns_dates_representable', 'date_representable(start_date) AND date_representable(end_date)'),
        ('key_events', 'key_events_dates_representable', 'date_representable(start_date) AND date_representable(end_date)'),
        ('bookings', 'bookings_period_representable', 'period_representable(period)'),
        ('availability', 'availability_period_representable', 'period_representable(period)')) v (tbl, con, cond)
    LOOP
        EXECUTE format('SELECT count(*) FROM %I WHERE NOT (%s)', c.tbl, c.cond) INTO broken;
        IF broken = 0 THEN
            EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', c.tbl, c.con);
        ELSE
            RAISE WARNING '%: % existing rows are outside the representable range; they are kept, and checked when next changed',
                c.tbl, broken;
        END IF;
    END LOOP;
END
$$;
