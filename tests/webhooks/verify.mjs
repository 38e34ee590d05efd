// verify.mjs — verifies deliveries with the Standard Webhooks reference library, unchanged, as a receiver would.
// Input (the file named by the first argument): a JSON array of {secret, headers, body}, body as received.
// Prints "N verified" and exits 0 when every delivery verifies; names the first that does not and exits 1.
// A delivery signed with another secret must fail: the caller includes such a control and expects it refused
// when its "expect" member is "refused".
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const deliveries = JSON.parse(readFileSync(process.argv[2], "utf8"));
let verified = 0;
for (const [i, d] of deliveries.entries()) {
  let ok = true;
  try {
    const event = new Webhook(d.secret).verify(d.body, d.headers);
    if (typeof event.type !== "string" || !("data" in event) || typeof event.timestamp !== "string") ok = false;
  } catch (e) {
    ok = false;
  }
  if (ok !== (d.expect !== "refused")) {
    console.error(`delivery ${i} (${d.headers["webhook-id"]}): ${ok ? "verified but should not" : "did not verify"}`);
    process.exit(1);
  }
  if (ok) verified++;
}
console.log(`${verified} verified`);
