// Operational webhooks through the official `svix` npm client (API.md 4.8):
// every call of svix.operationalWebhookEndpoint against a running hookd,
// with the status codes seen on the wire, then an event delivered to the
// operator's endpoint, checked with the package's own Webhook.verify.
//
//   HOOKD_URL=... HOOKD_TOKEN=... HOOKD_RECEIVER_URL=... HOOKD_RECEIVER_LOG=FILE \
//       node tests/svix/opwebhook.mjs
//
// Run by tests/t0541-opwebhook-client.sh, which starts the server and the
// receiver (tests/helpers/receiver.c, whose log holds each request's
// headers and body). Prints TAP on stdout.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { isDeepStrictEqual, inspect } from "node:util";

const require = createRequire(import.meta.url);
const { Svix, Webhook, ApiException } = require("svix");

let n = 0;
let failed = 0;
const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });
function ok(cond, name, ...why) {
  n++;
  console.log(`${cond ? "ok" : "not ok"} ${n} - ${name}`);
  if (!cond) {
    failed++;
    for (const w of why) process.stderr.write(`# ${w}\n`);
  }
  return !!cond;
}
const is = (got, want, name) =>
  ok(isDeepStrictEqual(got, want), name, `got:      ${show(got)}`, `expected: ${show(want)}`);

const URL_ = process.env.HOOKD_URL;
const TOKEN = process.env.HOOKD_TOKEN;
const RURL = process.env.HOOKD_RECEIVER_URL;
const RLOG = process.env.HOOKD_RECEIVER_LOG;

// The SDK hides status codes on success: remember the last one.
let last = null;
async function recordingFetch(url, init) {
  const res = await fetch(url, init);
  last = { method: init?.method, url: String(url), status: res.status };
  return res;
}
const svix = new Svix(TOKEN, { serverUrl: URL_, requestTimeout: 15000, fetch: recordingFetch });
const ow = svix.operationalWebhookEndpoint;
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET2 = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

function received(pred) {
  let lines = [];
  try {
    lines = readFileSync(RLOG, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
  return lines.filter(pred);
}
async function waitFor(pred, ms = 10000) {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    const got = received(pred);
    if (got.length) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

async function main() {
  const empty = await ow.list();
  is([empty.data.length, empty.done, last.status], [0, true, 200], "list: empty, 200");

  const created = await ow.create({
    url: `${RURL}/opclient`, uid: "pager", description: "pager", secret: SECRET,
    filterTypes: ["endpoint.created", "endpoint.deleted"], metadata: { team: "sre" }, rateLimit: 10,
  });
  is(last.status, 201, "create: 201");
  is([created.uid, created.description, created.metadata, created.filterTypes, created.rateLimit,
      created.disabled],
     ["pager", "pager", { team: "sre" }, ["endpoint.created", "endpoint.deleted"], 10, false],
     "create: the fields come back");
  ok(created.createdAt instanceof Date && !Number.isNaN(created.createdAt.getTime()),
     "create: createdAt is a date");

  const list = await ow.list({ limit: 10 });
  is(list.data.map((e) => e.id), [created.id], "list: the endpoint");
  is((await ow.get("pager")).id, created.id, "get by uid");
  is((await ow.getSecret(created.id)).key, SECRET, "getSecret: the secret given");

  const upd = await ow.update("pager", { url: `${RURL}/opclient`, description: "pager 2",
                                        filterTypes: ["endpoint.created"] });
  is([last.status, upd.description, upd.uid, upd.filterTypes], [200, "pager 2", "pager",
     ["endpoint.created"]], "update: 200, description and filter changed, uid kept");

  await ow.updateHeaders("pager", { headers: { "X-Team": "sre" } });
  is(last.status, 204, "updateHeaders: 204");
  is((await ow.getHeaders("pager")).headers, { "X-Team": "sre" }, "getHeaders");

  await ow.rotateSecret("pager", { key: SECRET2 });
  is(last.status, 204, "rotateSecret: 204");
  is((await ow.getSecret("pager")).key, SECRET2, "getSecret: the rotated secret");

  try {
    await ow.create({ url: `${RURL}/opclient`, filterTypes: ["not.an.event"] });
    ok(false, "a filter of unknown events is refused");
  } catch (e) {
    ok(e instanceof ApiException && e.code === 422, "a filter of unknown events is refused (422)",
       `got: ${show(e)}`);
  }

  // an event, verified with the package's own verifier and the rotated secret
  const app = await svix.application.create({ name: "client-shop", uid: "client-shop" });
  const ep = await svix.endpoint.create(app.id, { url: `${RURL}/cust`, uid: "c1" });
  const got = await waitFor((l) => l.path === "/opclient");
  ok(got.length === 1, "endpoint.created reaches the operator's endpoint", `got ${got.length}`);
  if (got.length) {
    const r = got[0];
    let payload = null;
    try {
      payload = new Webhook(SECRET2).verify(r.body, {
        "webhook-id": r.id, "webhook-timestamp": r.ts, "webhook-signature": r.sig,
      });
    } catch (e) {
      ok(false, "Webhook.verify accepts it", `${e}`);
    }
    if (payload) ok(true, "Webhook.verify accepts it");
    is(payload, { type: "endpoint.created",
                  data: { appId: app.id, appUid: "client-shop", endpointId: ep.id, endpointUid: "c1" } },
       "the payload is Svix's EndpointCreatedEvent");
  }

  await ow.delete("pager");
  is(last.status, 204, "delete: 204");
  try {
    await ow.get("pager");
    ok(false, "get after delete is 404");
  } catch (e) {
    ok(e instanceof ApiException && e.code === 404, "get after delete is 404", `got: ${show(e)}`);
  }
}

try {
  await main();
} catch (e) {
  ok(false, "no unexpected exception", show(e));
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
