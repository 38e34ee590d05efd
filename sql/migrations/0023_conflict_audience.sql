-- 0023_conflict_audience.sql — a campaign's conflict check reads the campaigns its rules can pair it with, not
-- every campaign around its dates: those reaching a related segment (campaign_segments_segment, 0001) and those
-- promoting its offer code (any case) while it runs, found here by organisation and code, then by their dates.
CREATE INDEX campaigns_offer ON campaigns (org_id, lower(offer_code), end_date) WHERE has_offer;
