-- 0046_feed_tokens_keep_their_types.sql — risks with a due date join the calendar's item types, and a feed
-- token that names no types shows every type. A token shows only what its creator may read: the integration
-- role may not read risks, so its tokens name their types (the service does so for new ones). The tokens it
-- made before keep the four types they showed.
UPDATE calendar_feed_tokens t
   SET filters = t.filters || '{"types": ["campaign", "booking", "availability", "key_event"]}'
 WHERE NOT t.filters ? 'types'
   AND EXISTS (SELECT 1 FROM audit_log a
                WHERE a.org_id = t.org_id AND a.entity = 'calendar_feed_token' AND a.entity_id = t.id AND a.action = 'create'
                  AND a.actor_role = 'integration');
