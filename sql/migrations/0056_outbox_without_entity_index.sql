-- 0056_outbox_without_entity_index.sql — the outbox keeps the indexes something reads.
--
-- outbox_events_entity (org_id, entity, entity_id, id) was made with the outbox (0003) for reading an entity's
-- events, and nothing does: the webhook worker takes the pending events through outbox_events_pending and each
-- event by its key, the delivery log and replays read webhook_deliveries, the audit trail audit_log. Every event
-- written (one a booking, one a campaign's change, ...) paid its entry twice: at the insert, and again when the
-- worker marks it delivered (delivered_at is in outbox_events_pending's predicate, so that update is never a HOT
-- update and every index of the row gets a new entry). README, "Bookings": each index entry is about 1 % of a
-- booking write.
DROP INDEX outbox_events_entity;
