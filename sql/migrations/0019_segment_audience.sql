-- 0019_segment_audience.sql — how many people sets of segments reach, as the forecasts read them (every
-- campaign of a history at once, or a plan's segments): per set, the estimated sizes of its segments added up,
-- a segment inside another of the same set (a descendant in the segment tree) counted once, within the outer
-- one. A set is given as pairs (p_sets[i], p_ids[i]). A set with a segment counted that has no estimated size
-- gets NULL (an audience is known whole or not at all); a set naming no segment of the organisation, no row.
CREATE FUNCTION segments_audiences(p_org text, p_sets uuid[], p_ids uuid[])
RETURNS TABLE (set_id uuid, audience bigint)
LANGUAGE sql STABLE AS $$
    -- Each segment counts +1 (and its size), each one inside another of its set -1 (and minus its size): only
    -- additions and hash joins, so a history of many campaigns costs in proportion (no anti-join planned as a
    -- nested loop).
    WITH RECURSIVE chosen AS (
        SELECT DISTINCT x.set_id, s.id, s.parent_id, s.estimated_size
          FROM unnest(p_sets, p_ids) AS x (set_id, id)
          JOIN segments s ON s.org_id = p_org AND s.id = x.id
    ), up (set_id, id, estimated_size, ancestor) AS (
        SELECT set_id, id, estimated_size, parent_id FROM chosen WHERE parent_id IS NOT NULL
        UNION -- not ALL: a cycle ends where its rows repeat
        SELECT up.set_id, up.id, up.estimated_size, s.parent_id
          FROM up JOIN segments s ON s.org_id = p_org AND s.id = up.ancestor
         WHERE s.parent_id IS NOT NULL
    ), inside AS ( -- the segments of a set that another of the same set contains
        SELECT DISTINCT up.set_id, up.id, up.estimated_size
          FROM up JOIN chosen a ON a.set_id = up.set_id AND a.id = up.ancestor
    )
    SELECT t.set_id, CASE WHEN sum(t.n) = sum(t.known) THEN sum(t.size)::bigint END
      FROM (SELECT c.set_id, 1 AS n, (c.estimated_size IS NOT NULL)::int AS known, c.estimated_size AS size
              FROM chosen c
            UNION ALL
            SELECT i.set_id, -1, -(i.estimated_size IS NOT NULL)::int, -i.estimated_size FROM inside i) t
     GROUP BY t.set_id
$$;
