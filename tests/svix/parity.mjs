// SPDX-License-Identifier: Apache-2.0
// Svix parity (issue 7): the routes and fields beyond the common calls,
// driven through the official client named by SVIX_MODULE ("svix" for 1.x,
// "svix2" for the 2.x npm alias), so that both clients run the same checks.
//
//   HOOKD_URL=... HOOKD_TOKEN=... HOOKD_RECEIVER_URL=... SVIX_MODULE=svix2 \
//       node tests/svix/parity.mjs
//
// Run by tests/t0301-svix-parity.sh (once per client), whose server has
// portal-url https://portal.example/#key={token}. Prints TAP; the helpers
// and the client loading are in tap.mjs.

import { sdk, MOD, RUN, ok, is, isDate, show, sleep, until, section, expectApi,
  recordingFetch, last, lastReq, done, env } from "./tap.mjs";

const { Svix } = sdk;
const [URL_, TOKEN, RECV] = env("HOOKD_URL", "HOOKD_TOKEN", "HOOKD_RECEIVER_URL");
const svix = new Svix(TOKEN, { serverUrl: URL_, requestTimeout: 15000, fetch: recordingFetch });

// one application per client run: both runs share a server
const tag = RUN;
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
  // the two sendExample messages may still be on their way: wait for them
  const st = (await until(async () => {
    const x = await svix.endpoint.getStats(app.id, good.id);
    return x.success >= 3 ? x : null;
  })) || await svix.endpoint.getStats(app.id, good.id);
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

await section("background tasks and replay-missing", async () => {
  // a message sent while an endpoint is disabled gets no delivery there;
  // replayMissing, a background task, sends it once the endpoint is back
  const late = await svix.endpoint.create(app.id, { url: `${RECV}/parity/${tag}/late`, uid: "late" });
  await svix.endpoint.patch(app.id, late.id, { disabled: true });
  await sleep(20);
  const since = new Date();
  const miss = await svix.message.create(app.id, { eventType: "missed", payload: { n: 9 } });
  await svix.endpoint.patch(app.id, late.id, { disabled: false });
  const rep = await svix.endpoint.replayMissing(app.id, late.id, { since });
  is([last().status, rep.task, typeof rep.id], [202, "endpoint.replay", "string"], "endpoint.replayMissing: 202 ReplayOut");
  const t = await until(async () => {
    const x = await svix.backgroundTask.get(rep.id);
    return x.status === "finished" ? x : null;
  });
  ok(t && t.id === rep.id && t.task === "endpoint.replay" && t.data && t.data.queued === 1,
    "backgroundTask.get knows the replay task; it finishes having queued the one missed message", show(t));
  const sent = await until(async () => {
    const d = await svix.messageAttempt.listAttemptedDestinations(app.id, miss.id);
    return d.data.find((x) => x.id === late.id && x.status === 0);
  });
  ok(sent, "the missed message reaches the endpoint", lastReq());
  const replays = await svix.backgroundTask.list({ task: "endpoint.replay" });
  ok(replays.data.some((x) => x.id === rep.id) && replays.data.every((x) => x.task === "endpoint.replay"),
    "backgroundTask.list task filter lists the replay and only replays", show(replays.data));
  const recovers = await svix.backgroundTask.list({ task: "endpoint.recover", status: "finished" });
  ok(recovers.data.length >= 1 && recovers.data.every((x) => x.task === "endpoint.recover" && x.status === "finished") &&
    !recovers.data.some((x) => x.id === rep.id), "backgroundTask.list task and status filters", show(recovers.data));
  const one = await svix.backgroundTask.list({ limit: 1 });
  is([one.data.length, one.done], [1, false], "backgroundTask.list limit 1: one task, not done");
  await expectApi(svix.backgroundTask.get("qtask_2000000000000000000000000000"), 404, "backgroundTask.get of an unknown id -> 404");
});

await section("application tokens", async () => {
  const tapp = await svix.application.create({ name: `tokens ${MOD}`, uid: `tokens-${tag}` });
  const tep = await svix.endpoint.create(tapp.id, { url: `${RECV}/parity/${tag}/tok`, uid: "t1" });
  const tmsg = await svix.message.create(tapp.id, { eventType: "order", payload: { t: 1 } });
  const acc = await svix.authentication.appPortalAccess(tapp.id, { expiry: 600 });
  ok(last().status === 200 && /^appsk_[0-9A-Za-z]{27}$/.test(acc.token) && acc.url === `https://portal.example/#key=${acc.token}`,
    "authentication.appPortalAccess: 200, a token and the portal url", show(acc));
  const as = (token) => new Svix(token, { serverUrl: URL_, requestTimeout: 15000, fetch: recordingFetch });
  const cust = as(acc.token);
  is((await cust.endpoint.list(tapp.id)).data.map((x) => x.id), [tep.id], "a client with the token lists its application's endpoints");
  is((await cust.message.list(tapp.id)).data.map((x) => x.id), [tmsg.id], "and its messages");
  await expectApi(cust.endpoint.list(app.id), 404, "another application's endpoints -> 404");
  await expectApi(cust.application.list(), 403, "the list of applications (an admin route) -> 403");
  await expectApi(cust.message.create(tapp.id, { eventType: "order", payload: {} }), 403, "message create -> 403");
  const ro = as((await svix.authentication.appPortalAccess(tapp.id, { readOnly: true })).token);
  is((await ro.endpoint.get(tapp.id, tep.id)).id, tep.id, "a readOnly token reads an endpoint");
  await expectApi(ro.endpoint.create(tapp.id, { url: `${RECV}/parity/${tag}/ro` }), 403, "a readOnly token is refused a write -> 403");
  const other = as((await svix.authentication.appPortalAccess(app.id, {})).token);
  await cust.authentication.logout();
  is(last().status, 204, "authentication.logout with the token: 204");
  await expectApi(cust.endpoint.list(tapp.id), 401, "after logout the token is refused -> 401");
  is((await ro.endpoint.list(tapp.id)).data.length, 1, "the application's other tokens still work");
  await expectApi(svix.authentication.logout(), 403, "logout with the admin token -> 403");
  await svix.authentication.expireAll(tapp.id, {});
  is(last().status, 204, "authentication.expireAll: 204");
  await expectApi(ro.endpoint.list(tapp.id), 401, "expireAll ends the application's tokens -> 401");
  is((await other.endpoint.list(app.id)).data.length >= 2, true, "and leaves another application's tokens working");
  await expectApi(svix.authentication.expireAll(`nosuch-${tag}`, {}), 404, "expireAll of a missing application -> 404");
});

done();
