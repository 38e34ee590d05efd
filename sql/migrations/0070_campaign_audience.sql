-- 0070_campaign_audience.sql — who reaches which segment, and when: a campaign's check finds the campaigns it may
-- pair with by segment and dates in one index, rather than reading every campaign of a related segment to drop
-- those dated elsewhere.
--
-- A campaign check reads the campaigns reaching a segment related to its own (0023) whose dates meet its window
-- padded by the overlap window and the 12 weeks a suggested move tries. Through campaign_segments_segment it read
-- every campaign of those segments, whatever its dates, each by its key in the heap of campaign_segments and then
-- of campaigns, and dropped those dated elsewhere: for a root segment of the conflicts benchmark 100 campaigns
-- read for 52 kept. Here each (campaign, segment) pair carries its campaign's dates, and
-- campaign_audience_dates gives the campaigns of a segment within a window from the index alone.
--
-- Kept by triggers, in the writer's transaction: a pair is added with its campaign_segments row (its campaign's
-- dates read under the campaign's row lock, which campaign_segments_document_insert takes first: triggers fire in
-- the order of their names), goes with it (the foreign key cascades, a campaign's deletion included), and takes
-- its campaign's new dates when they change. Nothing in the service writes here.

CREATE TABLE campaign_audience (
    campaign_id uuid NOT NULL,
    segment_id  uuid NOT NULL,
    start_date  date NOT NULL,
    end_date    date NOT NULL,
    PRIMARY KEY (campaign_id, segment_id),
    CONSTRAINT campaign_audience_pair FOREIGN KEY (campaign_id, segment_id)
        REFERENCES campaign_segments (campaign_id, segment_id) ON DELETE CASCADE
);
CREATE INDEX campaign_audience_dates ON campaign_audience (segment_id, end_date) INCLUDE (start_date, campaign_id);

-- The pairs a statement added, each with its campaign's dates read by its key (OFFSET 0: joined, a plan made once
-- for the size of the first statement might scan the campaigns for a later one, see 0075).
CREATE FUNCTION campaign_audience_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_audience (campaign_id, segment_id, start_date, end_date)
    SELECT n.campaign_id, n.segment_id, c.start_date, c.end_date
      FROM new_rows n CROSS JOIN LATERAL (SELECT c.start_date, c.end_date FROM campaigns c
                                           WHERE c.id = n.campaign_id OFFSET 0) c
    ON CONFLICT (campaign_id, segment_id) DO UPDATE SET start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date;
    RETURN NULL;
END $$;
CREATE TRIGGER campaign_segments_to_audience AFTER INSERT ON campaign_segments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_audience_add();

CREATE FUNCTION campaigns_audience_dates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaign_audience SET start_date = NEW.start_date, end_date = NEW.end_date WHERE campaign_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_audience_dates AFTER UPDATE OF start_date, end_date ON campaigns FOR EACH ROW
    WHEN (OLD.start_date IS DISTINCT FROM NEW.start_date OR OLD.end_date IS DISTINCT FROM NEW.end_date)
    EXECUTE FUNCTION campaigns_audience_dates();

INSERT INTO campaign_audience (campaign_id, segment_id, start_date, end_date)
SELECT cs.campaign_id, cs.segment_id, c.start_date, c.end_date FROM campaign_segments cs JOIN campaigns c ON c.id = cs.campaign_id;
