// SPDX-License-Identifier: Apache-2.0
// Operational webhooks through the official svix npm client (API.md 4.8),
// the one SVIX_MODULE names ("svix" for 1.x, "svix2" for 2.x; tap.mjs):
// every call of svix.operationalWebhookEndpoint against a running hookd,
// with the status codes seen on the wire, then an event delivered to the
// operator's endpoint, checked with the package's own Webhook.verify.
//
//   HOOKD_URL=... HOOKD_TOKEN=... HOOKD_RECEIVER_URL=... HOOKD_RECEIVER_LOG=FILE \
//       SVIX_MODULE=svix2 node tests/svix/opwebhook.mjs
//
// Run by tests/t0541-opwebhook-client.sh, once per client, which starts the server and the
// receiver (tests/helpers/receiver.c, whose log holds each request's
// headers and body). Prints TAP on stdout.

import { readFileSync } from "node:fs";
import { sdk, SDK_MAJOR, RUN, ok, is, show, recordingFetch, last as lastRec, done, env } from "./tap.mjs";

const { Svix, Webhook, ApiException } = sdk;
const [URL_, TOKEN, RURL, RLOG] = env("HOOKD_URL", "HOOKD_TOKEN", "HOOKD_RECEIVER_URL", "HOOKD_RECEIVER_LOG");
const svix = new Svix(TOKEN, { serverUrl: URL_, requestTimeout: 15000, fetch: recordingFetch });
// both client runs share the server and the receiver: their own path and app
const OPPATH = `/opclient-${RUN}`;
// 2.x moved the calls to operationalWebhook.endpoint, renamed update to
// upsert and updateHeaders to setHeaders (same routes), and the fields
// filterTypes and rateLimit to eventTypes and throttleRate (hookd takes both)
const V2 = SDK_MAJOR >= 2;
const ow = V2 ? svix.operationalWebhook.endpoint : svix.operationalWebhookEndpoint;
const owUpdate = (id, body) => (V2 ? ow.upsert(id, body) : ow.update(id, body));
const owSetHeaders = (id, body) => (V2 ? ow.setHeaders(id, body) : ow.updateHeaders(id, body));
const TYPES = V2 ? "eventTypes" : "filterTypes";
const RATE = V2 ? "throttleRate" : "rateLimit";
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
  is([empty.data.length, empty.done, lastRec().status], [0, true, 200], "list: empty, 200");

  const created = await ow.create({
    url: `${RURL}${OPPATH}`, uid: "pager", description: "pager", secret: SECRET,
    [TYPES]: ["endpoint.created", "endpoint.deleted"], metadata: { team: "sre" }, [RATE]: 10,
  });
  is(lastRec().status, 201, "create: 201");
  is([created.uid, created.description, created.metadata, created[TYPES], created[RATE],
      created.disabled],
     ["pager", "pager", { team: "sre" }, ["endpoint.created", "endpoint.deleted"], 10, false],
     "create: the fields come back");
  ok(created.createdAt instanceof Date && !Number.isNaN(created.createdAt.getTime()),
     "create: createdAt is a date");

  const list = await ow.list({ limit: 10 });
  is(list.data.map((e) => e.id), [created.id], "list: the endpoint");
  is((await ow.get("pager")).id, created.id, "get by uid");
  is((await ow.getSecret(created.id)).key, SECRET, "getSecret: the secret given");

  const upd = await owUpdate("pager", { url: `${RURL}${OPPATH}`, description: "pager 2",
                                     [TYPES]: ["endpoint.created"] });
  is([lastRec().status, upd.description, upd.uid, upd[TYPES]], [200, "pager 2", "pager",
     ["endpoint.created"]], `${V2 ? "upsert" : "update"}: 200, description and filter changed, uid kept`);

  await owSetHeaders("pager", { headers: { "X-Team": "sre" } });
  is(lastRec().status, 204, `${V2 ? "setHeaders" : "updateHeaders"}: 204`);
  is((await ow.getHeaders("pager")).headers, { "X-Team": "sre" }, "getHeaders");

  await ow.rotateSecret("pager", { key: SECRET2 });
  is(lastRec().status, 204, "rotateSecret: 204");
  is((await ow.getSecret("pager")).key, SECRET2, "getSecret: the rotated secret");

  try {
    await ow.create({ url: `${RURL}${OPPATH}`, [TYPES]: ["not.an.event"] });
    ok(false, "a filter of unknown events is refused");
  } catch (e) {
    ok(e instanceof ApiException && e.code === 422, "a filter of unknown events is refused (422)",
       `got: ${show(e)}`);
  }

  // an event, verified with the package's own verifier and the rotated secret
  const app = await svix.application.create({ name: `client-shop ${RUN}`, uid: `client-shop-${RUN}` });
  const ep = await svix.endpoint.create(app.id, { url: `${RURL}/cust`, uid: "c1" });
  const got = await waitFor((l) => l.path === OPPATH);
  ok(got.length === 1, "endpoint.created reaches the operator's endpoint", `got ${got.length}`);
  if (got.length) {
    const r = got[0];
    // 1.x's verify returns the parsed payload, 2.x's returns nothing: both
    // throw when the signature does not match
    const headers = { "webhook-id": r.id, "webhook-timestamp": r.ts, "webhook-signature": r.sig };
    let payload = null;
    try {
      new Webhook(SECRET2).verify(r.body, headers);
      ok(true, "Webhook.verify accepts it");
      payload = JSON.parse(r.body);
    } catch (e) {
      ok(false, "Webhook.verify accepts it", `${e}`);
    }
    let forged = null;
    try {
      new Webhook(`whsec_${Buffer.alloc(24, 7).toString("base64")}`).verify(r.body, headers);
    } catch (e) {
      forged = e;
    }
    ok(forged, "and refuses it with a secret it was not signed with");
    is(payload, { type: "endpoint.created",
                  data: { appId: app.id, appUid: `client-shop-${RUN}`, endpointId: ep.id, endpointUid: "c1" } },
       "the payload is Svix's EndpointCreatedEvent");
  }

  await ow.delete("pager");
  is(lastRec().status, 204, "delete: 204");
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
done();
