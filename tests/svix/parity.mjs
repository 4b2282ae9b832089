// Svix parity (issue 7): the routes and fields beyond the common calls,
// driven through the official client named by SVIX_MODULE ("svix" for 1.x,
// "svix2" for the 2.x npm alias), so that both clients run the same checks.
//
//   HOOKD_URL=... HOOKD_TOKEN=... HOOKD_RECEIVER_URL=... SVIX_MODULE=svix2 \
//       node tests/svix/parity.mjs
//
// Run by tests/t0301-svix-parity.sh (once per client). Prints TAP.

import { createRequire } from "node:module";
import { webcrypto } from "node:crypto";
import { isDeepStrictEqual, inspect } from "node:util";

// Node 18 has no global Web Crypto, which the clients' signature code uses.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const require = createRequire(import.meta.url);
const MOD = process.env.SVIX_MODULE || "svix";
let sdk;
try {
  sdk = require(MOD);   // 1.x is CommonJS
} catch (e) {
  sdk = await import(MOD);   // 2.x is an ES module
}
const { Svix, ApiException } = sdk;
const SDK_VERSION = require(`${MOD}/package.json`).version;

let n = 0;
let failed = 0;
const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });
const diag = (m) => { for (const l of String(m).split("\n")) process.stderr.write(`# ${l}\n`); };
function ok(cond, name, ...why) {
  n++;
  console.log(`${cond ? "ok" : "not ok"} ${n} - [${SDK_VERSION}] ${name}`);
  if (!cond) {
    failed++;
    for (const w of why) diag(w);
  }
  return !!cond;
}
const is = (got, want, name) => ok(isDeepStrictEqual(got, want), name, `got:      ${show(got)}`, `expected: ${show(want)}`);
const isDate = (d) => d instanceof Date && !Number.isNaN(d.getTime());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(100);
  }
}
async function section(name, fn) {
  try {
    await fn();
  } catch (e) {
    ok(false, `${name}: no unexpected exception`, e instanceof ApiException ? `ApiException ${e.code} ${show(e.body)}` : e.stack, lastReq());
  }
}
async function expectApi(promise, code, name) {
  try {
    ok(false, name, `resolved with ${show(await promise)}`);
  } catch (e) {
    ok(e instanceof ApiException && e.code === code, name, `got ${e && e.code} ${show(e && e.body)}`, lastReq());
  }
}

const URL_ = process.env.HOOKD_URL;
const TOKEN = process.env.HOOKD_TOKEN;
const RECV = process.env.HOOKD_RECEIVER_URL;
if (!URL_ || !TOKEN || !RECV) {
  console.log("Bail out! HOOKD_URL, HOOKD_TOKEN and HOOKD_RECEIVER_URL must be set");
  process.exit(1);
}
diag(`${MOD} ${SDK_VERSION}, node ${process.version}, server ${URL_}`);
const requests = [];
async function recordingFetch(url, init) {
  const rec = { method: init.method, url: String(url), status: null };
  requests.push(rec);
  const res = await fetch(url, init);
  rec.status = res.status;
  return res;
}
const last = () => requests[requests.length - 1] || {};
const lastReq = () => `last request: ${last().method} ${last().url} -> ${last().status}`;
const svix = new Svix(TOKEN, { serverUrl: URL_, requestTimeout: 15000, fetch: recordingFetch });

// one application per client run: both runs share a server
const tag = MOD.replace(/[^a-z0-9]/g, "");
const app = await svix.application.create({ name: `parity ${MOD}`, uid: `parity-${tag}` });
await svix.eventType.create({
  name: `signup-${tag}`, description: "d",
  schemas: { 1: { type: "object", examples: [{ user: "ann" }, { user: "bob" }] } },
}).catch(() => {});
const good = await svix.endpoint.create(app.id, { url: `${RECV}/parity/${tag}/ok`, uid: "good" });
const bad = await svix.endpoint.create(app.id, { url: `${RECV}/parity/${tag}/status/500`, uid: "bad" });

let m1, sched;
await section("tags and scheduled messages", async () => {
  m1 = await svix.message.create(app.id, { eventType: "order", payload: { n: 1 }, tags: ["blue", "t1"] });
  is(m1.tags, ["blue", "t1"], "message.create: MessageOut carries tags");
  await svix.message.create(app.id, { eventType: "other", payload: { n: 2 } });
  const at = new Date(Date.now() + 3000);
  sched = await svix.message.create(app.id, { eventType: "later", payload: { n: 3 }, deliverAt: at });
  ok(isDate(sched.deliverAt) && Math.abs(sched.deliverAt.getTime() - at.getTime()) < 2,
    "message.create: deliverAt comes back as the time asked", `got: ${show(sched.deliverAt)}`);
  const byTag = await svix.message.list(app.id, { tag: "blue" });
  is(byTag.data.map((x) => x.id), [m1.id], "message.list tag filter");
  const byType = await svix.message.list(app.id, { eventTypes: ["order"] });
  is(byType.data.map((x) => x.id), [m1.id], `message.list eventTypes filter (${new URL(last().url).search})`);
  await expectApi(svix.message.create(app.id, { eventType: "x", payload: {}, deliverAt: new Date(Date.now() - 3600e3) }),
    422, "deliverAt an hour ago -> 422");
});

await section("send-example", async () => {
  const ping = await svix.endpoint.sendExample(app.id, good.id, { eventType: "svix.ping" });
  is([last().status, ping.eventType, ping.payload], [202, "svix.ping", { success: true }],
    "endpoint.sendExample svix.ping: 202 MessageOut with {success:true}");
  const ex = await svix.endpoint.sendExample(app.id, good.id, { eventType: `signup-${tag}`, exampleIndex: 1 });
  is(ex.payload, { user: "bob" }, "sendExample takes the schema's example at exampleIndex");
  await expectApi(svix.endpoint.sendExample(app.id, good.id, { eventType: "no.such.type" }), 404,
    "sendExample of an unknown event type -> 404");
});

await section("attempted messages and destinations", async () => {
  const seen = await until(async () => {
    const l = await svix.messageAttempt.listAttemptedDestinations(app.id, m1.id);
    return l.data.length === 2 && l.data.every((d) => d.status !== 1) ? l : null;
  });
  if (!ok(seen, "messageAttempt.listAttemptedDestinations lists both endpoints once attempted", lastReq())) return;
  const byId = Object.fromEntries(seen.data.map((d) => [d.id, d]));
  is([byId[good.id].status, byId[good.id].statusText, byId[good.id].url], [0, "success", good.url],
    "MessageEndpointOut: the good endpoint succeeded");
  ok([2, 3].includes(byId[bad.id].status), "MessageEndpointOut: the failing one is sending or failed", show(byId[bad.id]));
  const msgs = await svix.messageAttempt.listAttemptedMessages(app.id, good.id, { status: 0 });
  ok(msgs.data.some((x) => x.id === m1.id && x.status === 0 && x.statusText === "success"),
    "messageAttempt.listAttemptedMessages: EndpointMessageOut with status", show(msgs.data));
  const tagged = await svix.messageAttempt.listAttemptedMessages(app.id, good.id, { eventTypes: ["order"] });
  is(tagged.data.map((x) => x.id), [m1.id], "listAttemptedMessages eventTypes filter");
  const atts = await svix.messageAttempt.listByEndpoint(app.id, good.id, { eventTypes: ["order"] });
  ok(atts.data.length >= 1 && atts.data.every((x) => x.msgId === m1.id),
    `messageAttempt.listByEndpoint eventTypes filter (${new URL(last().url).search})`, show(atts.data.map((x) => x.msgId)));
});

await section("endpoint stats", async () => {
  const st = await svix.endpoint.getStats(app.id, good.id);
  ok(["success", "pending", "sending", "fail"].every((k) => typeof st[k] === "number"),
    "endpoint.getStats: EndpointStats fields", show(st));
  ok(st.success >= 3 && st.pending >= 3, "success and pending count the deliveries", show(st));
  const old = await svix.endpoint.getStats(app.id, good.id,
    { since: new Date(Date.now() - 10 * 86400e3), until: new Date(Date.now() - 5 * 86400e3) });
  is([old.success, old.pending], [0, 0], "a window in the past counts nothing");
});

await section("expunge", async () => {
  const atts = await svix.messageAttempt.listByEndpoint(app.id, good.id);
  const a = atts.data.find((x) => x.msgId === m1.id);
  await svix.messageAttempt.expungeContent(app.id, m1.id, a.id);
  is(last().status, 204, "messageAttempt.expungeContent answers 204");
  is((await svix.messageAttempt.get(app.id, m1.id, a.id)).response, "EXPUNGED", "the attempt's response is gone");
  await svix.message.expungeContent(app.id, sched.id);
  is(last().status, 204, "message.expungeContent answers 204");
  is((await svix.message.get(app.id, sched.id, { withContent: true })).payload, { expired: true }, "the scheduled message's payload is gone");
  await sleep(3500);
  const d = await svix.messageAttempt.listAttemptedDestinations(app.id, sched.id);
  ok(d.data.length === 2 && d.data.every((x) => x.status === 2), "its deliveries ended failed, nothing sent", show(d.data));
  await expectApi(svix.messageAttempt.resend(app.id, sched.id, good.id), 400, "resend of an expunged message -> 400");
});

await section("recover as a background task", async () => {
  const rec = await svix.endpoint.recover(app.id, bad.id, { since: new Date(Date.now() - 3600e3) });
  is([last().status, rec.task], [202, "endpoint.recover"], "endpoint.recover: 202 RecoverOut");
  const t = await until(async () => {
    const x = await svix.backgroundTask.get(rec.id);
    return x.status === "finished" ? x : null;
  });
  ok(t && t.task === "endpoint.recover" && t.data && t.data.endpointId === bad.id,
    "backgroundTask.get knows the recover task, and it finishes", show(t));
});

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
