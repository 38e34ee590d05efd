-- 0008_lifecycle.sql — campaigns follow their dates: a scheduled campaign goes live on its start date and a
-- live one is completed after its end date, in the organisation's time zone. Every replica's lifecycle worker
-- runs campaigns_follow_dates() now and then; running it twice at once moves each campaign once (the second
-- UPDATE waits on the row and re-checks the status), and each move is audited and emits
-- campaign.status_changed like any other.
CREATE INDEX campaigns_date_driven ON campaigns (start_date, end_date) WHERE status IN ('scheduled', 'live');

CREATE FUNCTION campaigns_follow_dates() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_live integer;
    v_done integer;
BEGIN
    PERFORM set_config('campaignd.actor', 'campaignd', true);
    PERFORM set_config('campaignd.role', 'system', true);
    PERFORM set_config('campaignd.request_id', '', true);
    UPDATE campaigns c SET status = 'live', status_reason = 'start date reached'
      FROM organisations o
     WHERE o.id = c.org_id AND c.status = 'scheduled' AND c.start_date <= (now() AT TIME ZONE o.time_zone)::date;
    GET DIAGNOSTICS v_live = ROW_COUNT;
    UPDATE campaigns c SET status = 'completed', status_reason = 'end date passed'
      FROM organisations o
     WHERE o.id = c.org_id AND c.status = 'live' AND c.end_date < (now() AT TIME ZONE o.time_zone)::date;
    GET DIAGNOSTICS v_done = ROW_COUNT;
    RETURN v_live + v_done;
END $$;
