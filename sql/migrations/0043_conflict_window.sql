-- 0043_conflict_window.sql — what the conflict rules' statements read of the settings to find their window, in
-- a form the planner inlines.
--
-- Each of the seven statements that load a conflict slice (service/conflict_store.c) derives its window from the
-- organisation's time zone and from how far around it the rules look (the longer of the overlap window and the
-- frequency cap's days). They read that through org_settings_of(), which returns one row: a function PostgreSQL
-- cannot inline, so each statement ran it as a function scan that parsed and planned its body again on every
-- call — seven times a booking write, a fifth of PostgreSQL's CPU in a booking benchmark (perf). org_window()
-- returns a set, is one SELECT and STABLE, so the planner inlines it into each statement as a join of two rows
-- read by their keys. Without a settings row the values are org_settings_of()'s defaults (the organisation's time
-- zone, 7 days for both), and tests/db/test_booking_store.c checks that the two functions agree.
CREATE FUNCTION org_window(p_org text) RETURNS TABLE (time_zone text, pad_days integer)
LANGUAGE sql STABLE ROWS 1 AS $$
    SELECT coalesce(s.time_zone, o.time_zone, 'UTC'), coalesce(greatest(s.overlap_window_days, s.frequency_cap_days), 7)
      FROM (SELECT p_org AS id) k LEFT JOIN organisations o ON o.id = k.id LEFT JOIN org_settings s ON s.org_id = k.id
$$;
