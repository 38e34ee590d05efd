// A small front-end style client of campaignd, typed by the types openapi-typescript generates from
// openapi.yaml (./schema.d.ts, made by ../client.sh) and compiled with `tsc --strict`: if the contract
// says something the service does not do (a field required that the service does not need, an array
// parameter in a form it refuses, a status it does not declare), this file does not compile or a check
// below fails when it runs against the real service.
// Environment: CAMPAIGND_URL (base URL), PLANNER_TOKEN, OTHER_TOKEN (a second planner), MANAGER_TOKEN.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Campaign = components["schemas"]["Campaign"];
type Problem = components["schemas"]["Problem"];

function env(name: string): string {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
}

function client(token: string) {
    return createClient<paths>({ baseUrl: env("CAMPAIGND_URL"), headers: { Authorization: `Bearer ${token}` } });
}

let checks = 0;
function check(ok: boolean, what: string, detail?: unknown): void {
    if (!ok) {
        console.error(`FAIL: ${what}`, detail === undefined ? "" : JSON.stringify(detail));
        process.exit(1);
    }
    checks++;
    console.log(`ok: ${what}`);
}

// A problem body's code, whichever problem of the response's union it is.
function code(error: Problem | undefined): string | undefined {
    return error?.code;
}

const planner = client(env("PLANNER_TOKEN"));
const other = client(env("OTHER_TOKEN"));
const manager = client(env("MANAGER_TOKEN"));
const run = Date.now().toString(36);

// Create: only the required fields, the rest left to the service.
const created: Campaign[] = [];
for (const name of ["Alpha", "Bravo", "Charlie"]) {
    const { data, error, response } = await planner.POST("/v1/campaigns", {
        params: { header: { "Idempotency-Key": `client-${run}-${name}` } },
        body: { name: `${name} ${run}`, objective: "awareness", start_date: "2027-06-01", end_date: "2027-06-30" },
    });
    check(response.status === 201 && data !== undefined, `create campaign ${name}: 201`, error);
    if (data) created.push(data);
}
check(created.every((c) => c.status === "draft" && c.budget === null), "new campaigns are drafts without budget");

// List with cursors: two pages of two, status as an array (sent as status=draft&status=in_review).
const seen: string[] = [];
let cursor: string | undefined;
let pages = 0;
do {
    const { data, error, response } = await planner.GET("/v1/campaigns", {
        params: { query: { status: ["draft", "in_review"], q: run, sort: "name", limit: 2, cursor } },
    });
    check(response.status === 200 && data !== undefined, `list page ${pages + 1}: 200`, error);
    if (!data) break;
    seen.push(...data.items.map((c) => c.id));
    cursor = data.next_cursor ?? undefined;
    pages++;
} while (cursor && pages < 5);
check(pages === 2, "three campaigns come in two pages of two", pages);
check(JSON.stringify(seen) === JSON.stringify(created.map((c) => c.id)), "the pages hold every campaign once, by name");

// Patch with If-Match: the ETag read first; the same ETag again is 412 precondition_failed.
const first = created[0]!;
const read = await planner.GET("/v1/campaigns/{id}", { params: { path: { id: first.id } } });
const etag = read.response.headers.get("ETag") ?? "";
check(read.response.status === 200 && etag !== "", "read one with its ETag", etag);
const patched = await planner.PATCH("/v1/campaigns/{id}", {
    params: { path: { id: first.id }, header: { "If-Match": etag } },
    body: { notes: "copy due Friday" },
});
check(patched.response.status === 200 && patched.data?.notes === "copy due Friday", "patch with If-Match: 200",
      patched.error);
const stale = await planner.PATCH("/v1/campaigns/{id}", {
    params: { path: { id: first.id }, header: { "If-Match": etag } },
    body: { notes: "copy due Monday" },
});
check(stale.response.status === 412 && code(stale.error) === "precondition_failed", "stale If-Match: 412",
      stale.error);

// A resource with only kind and name; a notes-only PATCH (ResourcePatch requires nothing).
const res = await manager.POST("/v1/resources", { body: { kind: "slot", name: `Banner ${run}` } });
check(res.response.status === 201 && res.data?.capacity === 1 && res.data.capacity_unit === "concurrent",
      "create a resource with the defaults: 201", res.error);
const resourceId = res.data?.id ?? "";
const notes = await manager.PATCH("/v1/resources/{id}", {
    params: { path: { id: resourceId } },
    body: { notes: "the hero slot" },
});
check(notes.response.status === 200 && notes.data?.notes === "the hero slot", "notes-only resource patch: 200",
      notes.error);

// A booking with the defaults (tentative, quantity 1), and another campaign's overlapping one: 409.
const booked = await planner.POST("/v1/bookings", {
    body: { campaign_id: first.id, resource_id: resourceId, start: "2027-06-01T09:00:00+02:00",
            end: "2027-06-08T09:00:00+02:00" },
});
check(booked.response.status === 201 && booked.data?.status === "tentative" && booked.data.quantity === 1,
      "book: 201, tentative, quantity 1", booked.error);
const theirs = await other.POST("/v1/campaigns", {
    body: { name: `Delta ${run}`, objective: "conversion", start_date: "2027-06-01", end_date: "2027-06-30" },
});
check(theirs.response.status === 201, "another planner's campaign: 201", theirs.error);
const clash = await other.POST("/v1/bookings", {
    body: { campaign_id: theirs.data?.id ?? "", resource_id: resourceId, start: "2027-06-03T00:00:00Z",
            end: "2027-06-04T00:00:00Z" },
});
const refusal = clash.error;
check(clash.response.status === 409 && refusal !== undefined, "overlap: 409", refusal);
// The 409 is a union of problems; its code tells which, and booking_conflict's carries rule and conflicts.
if (refusal?.code === "booking_conflict") {
    check(refusal.rule === "resource_double_booked", "the refusal names its rule", refusal);
    check(refusal.conflicts.some((c) => c.id === booked.data?.id), "and the booking in the way", refusal.conflicts);
} else {
    check(false, "the overlap is a booking_conflict", refusal);
}

// Bookings and the calendar filtered by arrays.
const mine = await planner.GET("/v1/bookings", {
    params: { query: { status: ["tentative", "confirmed"], resource_id: resourceId } },
});
check(mine.response.status === 200 && mine.data?.items.length === 1, "bookings by status array: 200", mine.error);
const cal = await planner.GET("/v1/calendar", {
    params: { query: { from: "2027-06-01", to: "2027-07-01", types: ["booking", "key_event"], resource_id: resourceId } },
});
check(cal.response.status === 200 && cal.data?.items.length === 1 && cal.data.items[0]?.type === "booking",
      "calendar by types array: 200", cal.error);

console.log(`${checks} checks passed`);
