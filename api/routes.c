/* routes.c — the one table of routes. Order matters only for metrics labels. */
#include "routes.h"

#include "handlers.h"

const route routes[] = {
    {"GET", "/healthz", h_healthz, 0},
    {"GET", "/readyz", h_readyz, 0},
    {"GET", "/metrics", h_metrics, 0},
    {"GET", "/openapi.yaml", h_openapi, 0},
    {"GET", "/v1/campaigns", h_campaign_list, 1},
    {"POST", "/v1/campaigns", h_campaign_create, 1},
    {"GET", "/v1/campaigns/:id", h_campaign_get, 1},
    {"PATCH", "/v1/campaigns/:id", h_campaign_patch, 1},
    {"DELETE", "/v1/campaigns/:id", h_campaign_delete, 1},
    {"POST", "/v1/campaigns/:id/transitions", h_campaign_transition, 1},
    {"GET", "/v1/segments", h_segment_list, 1},
    {"POST", "/v1/segments", h_segment_create, 1},
    {"GET", "/v1/segments/:id", h_segment_get, 1},
    {"PATCH", "/v1/segments/:id", h_segment_patch, 1},
    {"DELETE", "/v1/segments/:id", h_segment_delete, 1},
    {"GET", "/v1/resources", h_resource_list, 1},
    {"POST", "/v1/resources", h_resource_create, 1},
    {"GET", "/v1/resources/:id", h_resource_get, 1},
    {"PATCH", "/v1/resources/:id", h_resource_patch, 1},
    {"DELETE", "/v1/resources/:id", h_resource_delete, 1},
    {"GET", "/v1/resources/:id/availability", h_availability_list, 1},
    {"POST", "/v1/resources/:id/availability", h_availability_create, 1},
    {"DELETE", "/v1/resources/:id/availability/:availability_id", h_availability_delete, 1},
    {"GET", "/v1/bookings", h_booking_list, 1},
    {"POST", "/v1/bookings", h_booking_create, 1},
    {"GET", "/v1/bookings/:id", h_booking_get, 1},
    {"PATCH", "/v1/bookings/:id", h_booking_patch, 1},
    {"POST", "/v1/bookings/:id/cancel", h_booking_cancel, 1},
    {"GET", "/v1/key-events", h_key_event_list, 1},
    {"POST", "/v1/key-events", h_key_event_create, 1},
    {"GET", "/v1/key-events/:id", h_key_event_get, 1},
    {"PATCH", "/v1/key-events/:id", h_key_event_patch, 1},
    {"DELETE", "/v1/key-events/:id", h_key_event_delete, 1},
    {"GET", "/v1/calendar", h_calendar, 1},
    /* A bearer token or a feed token (?token=): the handler checks which. */
    {"GET", "/v1/calendar.ics", h_calendar_ics, 0},
    {"GET", "/v1/calendar/feed-tokens", h_feed_token_list, 1},
    {"POST", "/v1/calendar/feed-tokens", h_feed_token_create, 1},
    {"DELETE", "/v1/calendar/feed-tokens/:id", h_feed_token_delete, 1},
};
const size_t routes_count = sizeof routes / sizeof routes[0];
