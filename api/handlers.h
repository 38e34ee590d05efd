/* handlers.h — every route handler, one h_<thing>.c file per resource. */
#ifndef CAMPAIGND_HANDLERS_H
#define CAMPAIGND_HANDLERS_H

#include "http.h"

void h_healthz(req_ctx *ctx);
void h_readyz(req_ctx *ctx);
void h_metrics(req_ctx *ctx);
void h_openapi(req_ctx *ctx);

void h_campaign_list(req_ctx *ctx);
void h_campaign_create(req_ctx *ctx);
void h_campaign_get(req_ctx *ctx);
void h_campaign_patch(req_ctx *ctx);
void h_campaign_delete(req_ctx *ctx);
void h_campaign_transition(req_ctx *ctx);

void h_segment_list(req_ctx *ctx);
void h_segment_create(req_ctx *ctx);
void h_segment_get(req_ctx *ctx);
void h_segment_patch(req_ctx *ctx);
void h_segment_delete(req_ctx *ctx);

#endif
