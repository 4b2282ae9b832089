// SPDX-License-Identifier: Apache-2.0
// Svix API conformance: drives a running hookd with the official svix npm
// client SVIX_MODULE names ("svix", 1.x, or "svix2", 2.x; both pinned in
// package.json) and prints TAP on stdout.
//
//   HOOKD_URL=http://127.0.0.1:PORT HOOKD_TOKEN=... [HOOKD_RECEIVER_URL=http://127.0.0.1:PORT] \
//       [SVIX_MODULE=svix2] node tests/svix/conformance.mjs
//
// Normally run by tests/t0300-svix-conformance.sh, which starts one server
// per client run (the checks expect an empty store).
// Every expectation comes from docs/API.md sections 2-8 (what the SDK does and
// what the server must answer). The SDK hides HTTP status codes on success, so
// the client is given a recording `fetch` wrapper: it passes every request
// through unchanged and remembers method, URL and status for the checks that
// need them (201 vs 200, 202, the `//api/v1` path of a trailing-slash URL).
// Deliveries to the test receiver are also checked with the package's own
// webhook verifier (`Webhook.verify`), before and after a key rotation.

import { createRequire } from "node:module";
import { webcrypto } from "node:crypto";
import { isDeepStrictEqual, inspect } from "node:util";

// The client draws its automatic idempotency keys with crypto.randomUUID()
// from the Web Crypto global, which Node has only from 19 on; Debian 12's
// nodejs is 18. Give it node:crypto's implementation of the same interface,
// before the client is loaded, and only where the global is missing.
if (globalThis.crypto === undefined) globalThis.crypto = webcrypto;

// SVIX_MODULE names the client package: "svix" (1.x) or "svix2" (2.x, an
// npm alias in package.json); t0300 runs this file with each.
// 1.x is CommonJS, 2.x an ES module: require, else import.
const require = createRequire(import.meta.url);
const MOD = process.env.SVIX_MODULE || "svix";
let sdk;
try {
  sdk = require(MOD);
} catch (e) {
  sdk = await import(MOD);
}
const { Svix, ApiException, Webhook } = sdk;
const SDK_VERSION = require(`${MOD}/package.json`).version;
const SDK_MAJOR = Number(SDK_VERSION.split(".")[0]);

// What 2.x changed in the calls this file makes (the routes are the same):
// the PUT calls are upsert, not update, and endpoint.updateHeaders is
// setHeaders; EndpointIn/Out call filterTypes eventTypes and have no
// version; message.create/get/list and the attempt lists send
// with_content=false unless withContent is given, where 1.x defaults to
// true (and message.create fills the payload in from its argument); a
// trailing / of serverUrl is dropped. Checks of a 1.x-only behaviour are
// guarded by V2 and check 2.x's instead.
const V2 = SDK_MAJOR >= 2;
const put = (api, ...args) => (V2 ? api.upsert(...args) : api.update(...args));
const TYPES = V2 ? "eventTypes" : "filterTypes";
const WITH = V2 ? { withContent: true } : {};
const PUT = V2 ? "upsert" : "update";

// ---------------------------------------------------------------- TAP helpers
let n = 0;
let failed = 0;
const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });
function diag(msg) {
  for (const line of String(msg).split("\n")) process.stderr.write(`# ${line}\n`);
}
function ok(cond, name, ...why) {
  n++;
  if (cond) {
    console.log(`ok ${n} - [${SDK_VERSION}] ${name}`);
  } else {
    failed++;
    console.log(`not ok ${n} - [${SDK_VERSION}] ${name}`);
    for (const w of why) diag(w);
  }
  return !!cond;
}
function is(got, want, name) {
  return ok(isDeepStrictEqual(got, want), name, `got:      ${show(got)}`, `expected: ${show(want)}`);
}
function like(got, re, name) {
  return ok(typeof got === "string" && re.test(got), name, `got: ${show(got)}`, `expected to match: ${re}`);
}
function skip(name, reason) {
  n++;
  console.log(`ok ${n} - [${SDK_VERSION}] ${name} # SKIP ${reason}`);
}
// IDs embed time in 4 ms units (API.md 3.3): wait a little between creates
// whose relative order a check depends on.
const tick = () => new Promise((r) => setTimeout(r, 10));
const isDate = (d) => d instanceof Date && !Number.isNaN(d.getTime());
const sorted = (a) => (Array.isArray(a) ? [...a].sort() : a);

// Run one group of checks; an unexpected exception fails the group, not the run.
async function section(name, fn) {
  try {
    await fn();
  } catch (e) {
    ok(false, `${name}: no unexpected exception`, describe(e));
  }
}
function describe(e) {
  if (e instanceof ApiException) return `ApiException ${e.code} body=${show(e.body)}\n${lastReq()}`;
  return `${e && e.stack ? e.stack : show(e)}\n${lastReq()}`;
}

// expectApi(promise, code, name): the call must reject with ApiException(code).
// Returns the exception (or null) for further checks on .body.
async function expectApi(promise, code, name) {
  try {
    const v = await promise;
    ok(false, name, `resolved with ${show(v)}`, `expected: ApiException with code ${code}`, lastReq());
    return null;
  } catch (e) {
    if (!(e instanceof ApiException)) {
      ok(false, name, `threw ${e && e.name}: ${e && e.message}`, `expected: ApiException with code ${code}`, lastReq());
      return null;
    }
    is(e.code, code, name);
    return e;
  }
}
// Checks of the HttpErrorOut body of a 4xx other than 422 (API.md 3.6).
function errorBody(e, code, name) {
  if (!e) return ok(false, `${name}: error body`, "no ApiException to look at");
  const b = e.body;
  ok(b && typeof b === "object" && b.code === code && typeof b.detail === "string",
    `${name}: body is {"code":"${code}","detail":string}`, `got: ${show(b)}`);
}
// Checks of the HTTPValidationError body of a 422.
function validationBody(e, name) {
  if (!e) return ok(false, `${name}: validation body`, "no ApiException to look at");
  const d = e.body && e.body.detail;
  ok(Array.isArray(d) && d.length > 0 &&
    d.every((x) => x && Array.isArray(x.loc) && typeof x.msg === "string" && typeof x.type === "string") &&
    ["body", "query", "path"].includes(d[0].loc[0]),
  `${name}: body.detail is a non-empty [{loc,msg,type}] array`, `got: ${show(e.body)}`);
}

// ------------------------------------------------------------ the client
const URL_ = process.env.HOOKD_URL;
const TOKEN = process.env.HOOKD_TOKEN;
if (!URL_ || !TOKEN) {
  console.log("Bail out! HOOKD_URL and HOOKD_TOKEN must be set");
  process.exit(1);
}
diag(`${MOD} ${SDK_VERSION}, node ${process.version}, server ${URL_}`);

const requests = [];
async function recordingFetch(url, init) {
  const rec = { method: init.method, url: String(url), status: null, redirected: false };
  requests.push(rec);
  const res = await fetch(url, init);
  rec.status = res.status;
  rec.redirected = res.redirected;
  return res;
}
const last = () => requests[requests.length - 1] || {};
const lastReq = () => { const r = last(); return `last request: ${r.method} ${r.url} -> ${r.status}`; };

const opts = { requestTimeout: 15000, fetch: recordingFetch };
const svix = new Svix(TOKEN, { serverUrl: URL_, ...opts });

const ID = (prefix) => new RegExp(`^${prefix}[0-9A-Za-z]{27}$`);

// ------------------------------------------------------------ health
await section("health", async () => {
  const r = await svix.health.get();
  is(r, undefined, "health.get() resolves");
  ok(last().status >= 200 && last().status < 300, "health answers 2xx", lastReq());
});

// ------------------------------------------------------------ applications
let app; // the main application, used by endpoints and messages
await section("application", async () => {
  app = await svix.application.create({ name: "Conformance", uid: "conf-app", metadata: { team: "a" } });
  is(last().status, 201, "application.create answers 201");
  like(app.id, ID("app_"), "application id is app_ + 27 base62");
  is(app.name, "Conformance", "application name echoed");
  is(app.uid, "conf-app", "application uid echoed");
  is(app.metadata, { team: "a" }, "application metadata echoed");
  ok(isDate(app.createdAt) && isDate(app.updatedAt), "application createdAt/updatedAt parse as dates",
    `got: ${show([app.createdAt, app.updatedAt])}`);
  ok(Math.abs(app.createdAt.getTime() - Date.now()) < 60000, "application createdAt is now", `got: ${app.createdAt}`);

  const dup = await expectApi(svix.application.create({ name: "again", uid: "conf-app" }), 409,
    "application.create with an existing uid -> 409");
  errorBody(dup, "conflict", "duplicate uid");

  const byId = await svix.application.get(app.id);
  is([byId.id, byId.name, byId.uid], [app.id, "Conformance", "conf-app"], "application.get by id");
  const byUid = await svix.application.get("conf-app");
  is(byUid.id, app.id, "application.get by uid");

  const list = await svix.application.list();
  ok(Array.isArray(list.data) && list.data.some((a) => a.id === app.id), "application.list contains the app",
    `got: ${show(list)}`);
  is(typeof list.done, "boolean", "application.list done is a boolean");
  ok(list.iterator === null || typeof list.iterator === "string", "application.list iterator is string or null",
    `got: ${show(list.iterator)}`);

  const upd = await put(svix.application, app.id, { name: "Conformance 2", uid: "conf-app", metadata: { team: "b" } });
  is(last().status, 200, `application.${PUT} of an existing app answers 200`);
  is([upd.id, upd.name, upd.metadata], [app.id, "Conformance 2", { team: "b" }], `application.${PUT} replaced name and metadata`);

  const created = await put(svix.application, "conf-app-put", { name: "Upserted", uid: "conf-app-put" });
  is(last().status, 201, `application.${PUT} of a missing uid answers 201`);
  like(created.id, ID("app_"), `application.${PUT} created an app`);
  is((await svix.application.get("conf-app-put")).id, created.id, "created app is found by its uid");

  const pat = await svix.application.patch("conf-app", { name: "Patched" });
  is(last().status, 200, "application.patch answers 200");
  is([pat.id, pat.name, pat.uid, pat.metadata], [app.id, "Patched", "conf-app", { team: "b" }],
    "application.patch changes name, keeps absent fields");

  const cleared = await svix.application.patch(created.id, { uid: null });
  ok(cleared.uid === null || cleared.uid === undefined, "application.patch uid:null clears the uid", `got: ${show(cleared.uid)}`);
  await expectApi(svix.application.get("conf-app-put"), 404, "cleared uid no longer finds the app");
  const reuid = await svix.application.patch(created.id, { uid: "conf-app-put2" });
  is(reuid.uid, "conf-app-put2", "application.patch sets a new uid");

  const goc1 = await svix.application.getOrCreate({ name: "GoC", uid: "conf-goc" });
  is(last().status, 201, "application.getOrCreate of a new uid answers 201");
  ok(last().url.includes("get_if_exists=true"), "getOrCreate sends get_if_exists=true", lastReq());
  const goc2 = await svix.application.getOrCreate({ name: "GoC other name", uid: "conf-goc" });
  is(last().status, 200, "application.getOrCreate of an existing uid answers 200");
  is([goc2.id, goc2.name], [goc1.id, "GoC"], "application.getOrCreate returns the existing app unchanged");

  const gone = await svix.application.delete(goc1.id);
  is(gone, undefined, "application.delete resolves");
  is(last().status, 204, "application.delete answers 204");
  const e404 = await expectApi(svix.application.get(goc1.id), 404, "deleted application -> 404 by id");
  errorBody(e404, "not_found", "deleted application");
  await expectApi(svix.application.get("conf-goc"), 404, "deleted application -> 404 by uid");
  const again = await svix.application.create({ name: "GoC reborn", uid: "conf-goc" });
  ok(again.id !== goc1.id && again.uid === "conf-goc", "uid of a deleted application can be reused",
    `got: ${show(again)}`);
  await expectApi(svix.application.delete(goc1.id), 404, "deleting a deleted application -> 404");

  const v422 = await expectApi(svix.application.create({ name: "" }), 422, "application.create with an empty name -> 422");
  validationBody(v422, "empty name");
  const pre = await expectApi(svix.application.create({ name: "x", uid: "app_looks_like_an_id" }), 422,
    "application uid starting with app_ -> 422");
  validationBody(pre, "uid with the id prefix");
});

await section("application pagination", async () => {
  const mine = [];
  for (let i = 0; i < 5; i++) mine.push((await svix.application.create({ name: `page-${i}` })).id);
  const all = await svix.application.list({ limit: 250 });
  const total = all.data.length;
  ok(all.done === true, "application.list limit 250 is done", `got: ${show(all.done)}`);
  const ids = all.data.map((a) => a.id);
  is(ids, [...ids].sort(), "applications are listed in ascending id order by default");

  const seen = [];
  let iterator;
  let pages = 0;
  let sizesOk = true;
  let itersOk = true;
  for (;;) {
    const page = await svix.application.list({ limit: 2, iterator });
    pages++;
    if (page.data.length > 2) sizesOk = false;
    seen.push(...page.data.map((a) => a.id));
    if (page.data.length && page.iterator !== page.data[page.data.length - 1].id) itersOk = false;
    if (page.done) break;
    if (pages > 50 || !page.iterator) { ok(false, "pagination terminates", `page ${pages}: ${show(page)}`); break; }
    iterator = page.iterator;
  }
  ok(sizesOk, "every page has at most 2 items");
  ok(itersOk, "iterator is the id of the last item of each page");
  is(seen, ids, "following iterator with limit 2 yields every app once, in order");
  ok(mine.every((id) => seen.includes(id)), "all 5 new apps were seen");
  is(pages, Math.max(1, Math.ceil(total / 2)), `${total} apps come in ceil(${total}/2) pages`);

  const desc = await svix.application.list({ limit: 250, order: "descending" });
  is(desc.data.map((a) => a.id), [...ids].reverse(), "order=descending reverses the list");

  // prevIterator walks back to the previous page.
  const p1 = await svix.application.list({ limit: 2 });
  const p2 = await svix.application.list({ limit: 2, iterator: p1.iterator });
  if (ok(typeof p2.prevIterator === "string", "second page has a prevIterator", `got: ${show(p2.prevIterator)}`)) {
    const back = await svix.application.list({ limit: 2, iterator: p2.prevIterator });
    is(back.data.map((a) => a.id), p1.data.map((a) => a.id), "prevIterator gives back the first page");
  }

  const unknown = await svix.application.list({ excludeAppsWithNoEndpoints: true, limit: 250 });
  ok(Array.isArray(unknown.data), "unknown query parameters (exclude_apps_with_*) are ignored");
  const big = await expectApi(svix.application.list({ limit: 251 }), 422, "limit 251 -> 422");
  validationBody(big, "limit 251");
});

// ------------------------------------------------------------ event types
await section("event types", async () => {
  const et = await svix.eventType.create({
    name: "user.created", description: "A user was created", schemas: { 1: { type: "object" } },
  });
  is(last().status, 201, "eventType.create answers 201");
  is([et.name, et.description, et.archived, et.deprecated], ["user.created", "A user was created", false, false],
    "eventType.create echoes name/description, archived and deprecated default to false");
  is(et.schemas, { 1: { type: "object" } }, "eventType.create echoes schemas");
  ok(isDate(et.createdAt) && isDate(et.updatedAt), "event type createdAt/updatedAt parse as dates");
  for (const name of ["user.deleted", "invoice.paid", "old.type", "tmp.type"]) {
    await svix.eventType.create({ name, description: name });
  }
  const dup = await expectApi(svix.eventType.create({ name: "invoice.paid", description: "x" }), 409,
    "eventType.create of an existing name -> 409");
  errorBody(dup, "event_type_exists", "duplicate event type");

  const got = await svix.eventType.get("user.created");
  is([got.name, got.description, got.schemas], ["user.created", "A user was created", { 1: { type: "object" } }],
    "eventType.get");
  await expectApi(svix.eventType.get("no.such.type"), 404, "eventType.get of a missing name -> 404");

  const list = await svix.eventType.list();
  const names = list.data.map((t) => t.name);
  is(names, ["invoice.paid", "old.type", "tmp.type", "user.created", "user.deleted"], "eventType.list ordered by name");
  const uc = list.data.find((t) => t.name === "user.created");
  ok(uc && uc.schemas == null, "eventType.list leaves schemas null without withContent", `got: ${show(uc)}`);
  const withContent = await svix.eventType.list({ withContent: true });
  is(withContent.data.find((t) => t.name === "user.created")?.schemas, { 1: { type: "object" } },
    "eventType.list withContent:true includes schemas");
  const paged = await svix.eventType.list({ limit: 2 });
  is([paged.data.map((t) => t.name), paged.iterator, paged.done], [["invoice.paid", "old.type"], "old.type", false],
    "eventType.list limit 2: first page, iterator = last name, not done");
  const paged2 = await svix.eventType.list({ limit: 2, iterator: paged.iterator });
  is(paged2.data.map((t) => t.name), ["tmp.type", "user.created"], "eventType.list second page");

  const upd = await put(svix.eventType, "user.deleted", { description: "A user was deleted", deprecated: true });
  is(last().status, 200, `eventType.${PUT} of an existing type answers 200`);
  is([upd.name, upd.description, upd.deprecated], ["user.deleted", "A user was deleted", true], `eventType.${PUT}`);
  const created = await put(svix.eventType, "user.updated", { description: "A user was updated" });
  is(last().status, 201, `eventType.${PUT} of a new name answers 201`);
  is([created.name, created.archived], ["user.updated", false], `eventType.${PUT} created the type`);

  const pat = await svix.eventType.patch("user.created", { deprecated: true, groupName: "users" });
  is(last().status, 200, "eventType.patch answers 200");
  is([pat.deprecated, pat.description, pat.groupName, pat.schemas],
    [true, "A user was created", "users", { 1: { type: "object" } }], "eventType.patch changes given fields only");
  const pat2 = await svix.eventType.patch("user.created", { deprecated: false, groupName: null });
  ok(pat2.deprecated === false && pat2.groupName == null, "eventType.patch groupName:null clears it", `got: ${show(pat2)}`);

  is(await svix.eventType.delete("old.type"), undefined, "eventType.delete (archive) resolves");
  is(last().status, 204, "eventType.delete answers 204");
  const after = await svix.eventType.list();
  ok(!after.data.some((t) => t.name === "old.type"), "archived type hidden from eventType.list");
  const inclArch = await svix.eventType.list({ includeArchived: true });
  ok(last().url.includes("include_archived=true"), "includeArchived sends include_archived=true", lastReq());
  const arch = inclArch.data.find((t) => t.name === "old.type");
  is(arch && arch.archived, true, "eventType.list includeArchived shows it with archived:true");
  is((await svix.eventType.get("old.type")).archived, true, "eventType.get shows an archived type");

  await svix.eventType.delete("tmp.type", { expunge: true });
  ok(last().url.includes("expunge=true"), "expunge sends expunge=true", lastReq());
  await expectApi(svix.eventType.get("tmp.type"), 404, "expunged type -> 404");
  const inc2 = await svix.eventType.list({ includeArchived: true });
  ok(!inc2.data.some((t) => t.name === "tmp.type"), "expunged type not listed even with includeArchived");

  const bad = await expectApi(svix.eventType.create({ name: "bad name!", description: "x" }), 422,
    "event type name outside the pattern -> 422");
  validationBody(bad, "bad event type name");
});

// ------------------------------------------------------------ endpoints
let ep; // main endpoint on `app`
await section("endpoints", async () => {
  ep = await svix.endpoint.create(app.id, {
    url: "https://example.com/hook", description: "main", uid: "ep-main", ...(V2 ? {} : { version: 1 }),
    [TYPES]: ["user.created", "user.updated"], channels: ["project-1"], metadata: { k: "v" },
  });
  is(last().status, 201, "endpoint.create answers 201");
  like(ep.id, ID("ep_"), "endpoint id is ep_ + 27 base62");
  is([ep.url, ep.description, ep.uid, ep.version, ep.disabled],
    ["https://example.com/hook", "main", "ep-main", V2 ? undefined : 1, false],
    `endpoint.create echoes url/description/uid/${V2 ? "" : "version/"}disabled`);
  is(sorted(ep[TYPES]), ["user.created", "user.updated"], `endpoint.create echoes ${TYPES} (${SDK_MAJOR}.x key)`);
  is(ep.channels, ["project-1"], "endpoint.create echoes channels");
  is(ep.metadata, { k: "v" }, "endpoint.create echoes metadata");
  ok(isDate(ep.createdAt) && isDate(ep.updatedAt), "endpoint createdAt/updatedAt parse as dates");

  await tick();
  const ep2 = await svix.endpoint.create("conf-app", { url: "https://example.org/second" });
  like(ep2.id, ID("ep_"), "endpoint.create with the app uid in the path");
  ok(ep2[TYPES] == null && ep2.channels == null, `endpoint without filters has null ${TYPES} and channels`,
    `got: ${show([ep2[TYPES], ep2.channels])}`);
  is([ep2.description, ep2.disabled], ["", false], "endpoint description defaults to \"\", disabled to false");

  await expectApi(svix.endpoint.create("no-such-app", { url: "https://example.com/x" }), 404,
    "endpoint.create in a missing app -> 404");
  const dupe = await expectApi(svix.endpoint.create(app.id, { url: "https://example.com/x", uid: "ep-main" }), 409,
    "endpoint.create with an existing uid -> 409");
  errorBody(dupe, "conflict", "duplicate endpoint uid");
  const badUrl = await expectApi(svix.endpoint.create(app.id, { url: "not a url" }), 422,
    "endpoint.create with url \"not a url\" -> 422");
  validationBody(badUrl, "bad url");
  const badType = await expectApi(svix.endpoint.create(app.id, { url: "https://example.com/x", [TYPES]: ["no.such.type"] }),
    422, `endpoint ${TYPES} naming a missing event type -> 422`);
  validationBody(badType, `missing event type in ${TYPES}`);
  await expectApi(svix.endpoint.create(app.id, { url: "https://example.com/x", [TYPES]: ["old.type"] }),
    422, `endpoint ${TYPES} naming an archived event type -> 422`);

  const g = await svix.endpoint.get(app.id, ep.id);
  is([g.id, g.url, sorted(g[TYPES]), g.channels], [ep.id, ep.url, ["user.created", "user.updated"], ["project-1"]],
    "endpoint.get by id");
  is((await svix.endpoint.get("conf-app", "ep-main")).id, ep.id, "endpoint.get by app uid and endpoint uid");
  await expectApi(svix.endpoint.get(app.id, "ep-missing"), 404, "endpoint.get of a missing endpoint -> 404");

  const list = await svix.endpoint.list(app.id);
  is(list.data.map((e) => e.id), [ep2.id, ep.id], "endpoint.list: newest first by default");
  is(list.done, true, "endpoint.list done");
  const lp = await svix.endpoint.list(app.id, { limit: 1 });
  is([lp.data.length, lp.iterator, lp.done], [1, ep2.id, false], "endpoint.list limit 1: iterator is the last id, not done");
  const lp2 = await svix.endpoint.list(app.id, { limit: 1, iterator: lp.iterator });
  is([lp2.data.map((e) => e.id), lp2.done], [[ep.id], true], "endpoint.list second page");

  const upd = await put(svix.endpoint, app.id, ep2.id, {
    url: "https://example.org/second-v2", description: "second", [TYPES]: ["invoice.paid"], ...(V2 ? {} : { version: 1 }),
  });
  is(last().status, 200, `endpoint.${PUT} of an existing endpoint answers 200`);
  is([upd.id, upd.url, upd.description, upd[TYPES]], [ep2.id, "https://example.org/second-v2", "second", ["invoice.paid"]],
    `endpoint.${V2 ? "upsert" : "update"} replaced url, description and ${TYPES}`);
  const putNew = await put(svix.endpoint, app.id, "ep-put", { url: "https://example.net/put", uid: "ep-put" });
  is(last().status, 201, `endpoint.${PUT} of a missing uid answers 201`);
  like(putNew.id, ID("ep_"), `endpoint.${PUT} created an endpoint`);

  const pat = await svix.endpoint.patch(app.id, "ep-put", { description: "patched" });
  is(last().status, 200, "endpoint.patch answers 200");
  is([pat.id, pat.description, pat.url], [putNew.id, "patched", "https://example.net/put"],
    "endpoint.patch changes the given field, keeps the url");
  const pat2 = await svix.endpoint.patch(app.id, ep2.id, { [TYPES]: null, channels: ["project-9"] });
  ok(pat2[TYPES] == null, `endpoint.patch ${TYPES}:null clears the filter`, `got: ${show(pat2[TYPES])}`);
  is(pat2.channels, ["project-9"], "endpoint.patch sets channels");
  const pat3 = await svix.endpoint.patch(app.id, ep2.id, { channels: null });
  ok(pat3.channels == null && pat3.url === "https://example.org/second-v2", "endpoint.patch channels:null clears channels",
    `got: ${show(pat3)}`);

  // secrets
  const s1 = await svix.endpoint.getSecret(app.id, ep.id);
  like(s1.key, /^whsec_[A-Za-z0-9+/]+=*$/, "endpoint.getSecret returns whsec_<base64>");
  is(Buffer.from(s1.key.slice(6), "base64").length, 24, "generated secret is 24 bytes");
  is(await svix.endpoint.rotateSecret(app.id, ep.id), undefined, "endpoint.rotateSecret resolves");
  const s2 = await svix.endpoint.getSecret(app.id, ep.id);
  ok(s2.key !== s1.key && s2.key.startsWith("whsec_"), "getSecret after rotateSecret returns a new whsec_ key",
    `before: ${s1.key}`, `after:  ${s2.key}`);
  const chosen = "whsec_" + Buffer.alloc(24, 7).toString("base64");
  await svix.endpoint.rotateSecret(app.id, ep.id, { key: chosen });
  is((await svix.endpoint.getSecret(app.id, ep.id)).key, chosen, "rotateSecret with a key installs that key");
  const given = "whsec_" + Buffer.alloc(32, 3).toString("base64");
  const ep3 = await svix.endpoint.create(app.id, { url: "https://example.com/third", secret: given });
  is((await svix.endpoint.getSecret(app.id, ep3.id)).key, given, "endpoint.create with a secret keeps it");

  // custom headers
  const setHeaders = (...args) => (V2 ? svix.endpoint.setHeaders(...args) : svix.endpoint.updateHeaders(...args));
  const h0 = await svix.endpoint.getHeaders(app.id, ep.id);
  is([h0.headers, h0.sensitive], [{}, []], "endpoint.getHeaders of a new endpoint is empty");
  is(await setHeaders(app.id, ep.id, { headers: { "X-Foo": "bar", Authorization: "Bearer s3cret" } }),
    undefined, `endpoint.${V2 ? "setHeaders" : "updateHeaders"} resolves`);
  const h1 = await svix.endpoint.getHeaders(app.id, ep.id);
  const lower = (o) => Object.fromEntries(Object.entries(o || {}).map(([k, v]) => [k.toLowerCase(), v]));
  is(lower(h1.headers), { "x-foo": "bar" }, "getHeaders lists the plain header with its value, not the sensitive one");
  is((h1.sensitive || []).map((s) => s.toLowerCase()), ["authorization"], "getHeaders names the sensitive header");
  ok(!JSON.stringify(h1).includes("s3cret"), "the sensitive value is never returned", `got: ${show(h1)}`);
  is(await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { "X-New": "1" } }), undefined,
    "endpoint.patchHeaders resolves");
  const h2 = await svix.endpoint.getHeaders(app.id, ep.id);
  is(lower(h2.headers), { "x-foo": "bar", "x-new": "1" }, "patchHeaders merges");
  await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { "X-New": null } });
  is(lower((await svix.endpoint.getHeaders(app.id, ep.id)).headers), { "x-foo": "bar" }, "patchHeaders with null removes a header");
  await svix.endpoint.patchHeaders(app.id, ep.id, { headers: {}, deleteHeaders: ["X-Foo"] });
  const h4 = await svix.endpoint.getHeaders(app.id, ep.id);
  is([lower(h4.headers), h4.sensitive.map((s) => s.toLowerCase())], [{}, ["authorization"]],
    "patchHeaders deleteHeaders removes a header");
  await setHeaders(app.id, ep.id, { headers: { "X-Only": "1" } });
  const h5 = await svix.endpoint.getHeaders(app.id, ep.id);
  is([lower(h5.headers), h5.sensitive], [{ "x-only": "1" }, []], "updateHeaders replaces all headers");
  const forb = await expectApi(setHeaders(app.id, ep.id, { headers: { "User-Agent": "x" } }), 422,
    "updateHeaders with a forbidden name (user-agent) -> 422");
  validationBody(forb, "forbidden header");

  // delete
  is(await svix.endpoint.delete(app.id, "ep-put"), undefined, "endpoint.delete resolves");
  is(last().status, 204, "endpoint.delete answers 204");
  await expectApi(svix.endpoint.get(app.id, putNew.id), 404, "deleted endpoint -> 404");
  const reuse = await svix.endpoint.create(app.id, { url: "https://example.net/put", uid: "ep-put" });
  ok(reuse.id !== putNew.id, "uid of a deleted endpoint can be reused");
  await svix.endpoint.delete(app.id, reuse.id);
  await svix.endpoint.delete(app.id, ep3.id);
});

// ------------------------------------------------------------ messages
await section("messages", async () => {
  const payload = { hello: "world", n: 1, nested: { a: [1, 2, 3] } };
  const m1 = await svix.message.create(app.id, {
    eventType: "user.created", eventId: "evt-1", payload, channels: ["project-1"],
  });
  is(last().status, 202, "message.create answers 202");
  ok(last().url.includes("with_content=false"), `${SDK_MAJOR}.x message.create sends with_content=false`, lastReq());
  like(m1.id, ID("msg_"), "message id is msg_ + 27 base62");
  is([m1.eventType, m1.eventId, m1.channels], ["user.created", "evt-1", ["project-1"]],
    "message.create echoes eventType, eventId, channels");
  if (V2) is(m1.payload, {}, "2.x message.create answers payload {} (with_content=false)");
  else is(m1.payload, payload, "1.x message.create result carries the payload (the client puts it back)");
  ok(isDate(m1.timestamp) && Math.abs(m1.timestamp.getTime() - Date.now()) < 60000, "message timestamp is now",
    `got: ${show(m1.timestamp)}`);

  const g = await svix.message.get(app.id, m1.id, WITH);
  is([g.id, g.eventType, g.eventId, g.payload], [m1.id, "user.created", "evt-1", payload],
    `message.get by id returns the stored payload (${V2 ? "withContent:true" : "with_content defaults to true"})`);
  if (V2) is((await svix.message.get(app.id, m1.id)).payload, {}, "2.x message.get defaults to withContent:false -> payload {}");
  is((await svix.message.get("conf-app", "evt-1")).id, m1.id, "message.get by app uid and eventId");
  is((await svix.message.get(app.id, m1.id, { withContent: false })).payload, {}, "message.get withContent:false -> payload {}");
  await expectApi(svix.message.get(app.id, "evt-missing"), 404, "message.get of a missing message -> 404");

  const dup = await expectApi(svix.message.create(app.id, { eventType: "user.created", eventId: "evt-1", payload: {} }), 409,
    "message.create with an existing eventId -> 409");
  errorBody(dup, "conflict", "duplicate eventId");

  await tick();
  const m2 = await svix.message.create(app.id, { eventType: "invoice.paid", payload: { amount: 10 } });
  ok(m2.eventId == null && m2.channels == null, "message without eventId/channels has them null",
    `got: ${show([m2.eventId, m2.channels])}`);
  await tick();
  const m3 = await svix.message.create(app.id, { eventType: "user.created", payload: { x: 3 }, channels: ["project-2"] });
  // OSS does not require the event type to exist.
  await tick();
  const m4 = await svix.message.create(app.id, { eventType: "never.registered", payload: { x: 4 } });
  await tick();
  const m5 = await svix.message.create(app.id, { eventType: "user.deleted", payload: { x: 5 }, tags: ["t1"] });
  const all = [m5, m4, m3, m2, m1].map((m) => m.id);

  const list = await svix.message.list(app.id, WITH);
  is(list.data.map((m) => m.id), all, "message.list: all messages, newest first");
  is(list.done, true, "message.list done");
  const lm1 = list.data.find((m) => m.id === m1.id);
  is(lm1 && lm1.payload, payload, `message.list includes payloads ${V2 ? "with withContent:true" : "by default"}`);
  const noContent = await svix.message.list(app.id, { withContent: false });
  ok(noContent.data.every((m) => isDeepStrictEqual(m.payload, {})), "message.list withContent:false -> every payload {}",
    `got: ${show(noContent.data.map((m) => m.payload))}`);

  const byType = await svix.message.list(app.id, { eventTypes: ["invoice.paid"] });
  is(byType.data.map((m) => m.id), [m2.id], "message.list eventTypes filter (one type)");
  const byTypes = await svix.message.list(app.id, { eventTypes: ["invoice.paid", "user.created"] });
  ok(last().url.includes("event_types=invoice.paid%2Cuser.created"), "eventTypes sent comma-joined as %2C", lastReq());
  is(byTypes.data.map((m) => m.id), [m3.id, m2.id, m1.id], "message.list eventTypes filter (two types)");
  const byChan = await svix.message.list(app.id, { channel: "project-1" });
  is(byChan.data.map((m) => m.id), [m1.id], "message.list channel filter");

  const hourAgo = new Date(Date.now() - 3600e3);
  is((await svix.message.list(app.id, { after: hourAgo })).data.length, 5, "message.list after an hour ago -> all 5");
  is((await svix.message.list(app.id, { before: hourAgo })).data.length, 0, "message.list before an hour ago -> none");
  is((await svix.message.list(app.id, { before: new Date(Date.now() + 3600e3) })).data.length, 5,
    "message.list before an hour from now -> all 5");

  const seen = [];
  let iterator;
  let pages = 0;
  for (;;) {
    const page = await svix.message.list(app.id, { limit: 2, iterator });
    pages++;
    seen.push(...page.data.map((m) => m.id));
    if (page.done) break;
    if (pages > 10 || !page.iterator) { ok(false, "message pagination terminates", show(page)); break; }
    iterator = page.iterator;
  }
  is([seen, pages], [all, 3], "message.list limit 2 over 5 messages: 3 pages, every message once, newest first");

  await expectApi(svix.message.create("no-such-app", { eventType: "user.created", payload: {} }), 404,
    "message.create in a missing app -> 404");
  const notObj = await expectApi(svix.message.create(app.id, { eventType: "user.created", payload: [1, 2] }), 422,
    "message.create with a non-object payload -> 422");
  validationBody(notObj, "array payload");
  await expectApi(svix.message.create(app.id, { eventType: "bad type!", payload: {} }), 422,
    "message.create with an eventType outside the pattern -> 422");

  // embedded application
  const em = await svix.message.create("conf-embedded", {
    eventType: "user.created", payload: { e: 1 }, application: { name: "Embedded", uid: "conf-embedded" },
  });
  like(em.id, ID("msg_"), "message.create with an embedded application creates the message");
  is((await svix.application.get("conf-embedded")).name, "Embedded", "and creates the application");
  const mis = await expectApi(svix.message.create("conf-embedded-2", {
    eventType: "user.created", payload: {}, application: { name: "E", uid: "something-else" },
  }), 422, "embedded application with a different uid -> 422");
  is(mis && mis.body && mis.body.detail && mis.body.detail[0] && mis.body.detail[0].type, "application_uid_mismatch",
    "422 type is application_uid_mismatch");
});

// ------------------------------------------------------------ idempotency
await section("idempotency", async () => {
  const key = `conf-${Date.now()}`;
  const a = await svix.message.create(app.id, { eventType: "user.created", payload: { i: 1 } }, { idempotencyKey: key });
  const b = await svix.message.create(app.id, { eventType: "user.created", payload: { i: 1 } }, { idempotencyKey: key });
  is(b.id, a.id, "two message.create calls with the same idempotencyKey return the same id");
  is(last().status, 202, "the replayed response keeps status 202");
  const list = await svix.message.list(app.id, { limit: 250 });
  is(list.data.filter((m) => m.id === a.id).length, 1, "only one message was stored");
  const c = await svix.message.create(app.id, { eventType: "user.created", payload: { i: 1 } }, { idempotencyKey: key + "-other" });
  ok(c.id !== a.id, "a different idempotencyKey creates a new message");

  const k2 = `conf-app-${Date.now()}`;
  const x = await svix.application.create({ name: "idem" }, { idempotencyKey: k2 });
  const y = await svix.application.create({ name: "idem" }, { idempotencyKey: k2 });
  is(y.id, x.id, "application.create with the same idempotencyKey returns the same app");
  is(last().status, 201, "the replayed application.create keeps status 201");

  // a failed (non-2xx) response is not cached: retrying with the same key after fixing the input works
  const k3 = `conf-fail-${Date.now()}`;
  await expectApi(svix.message.create("conf-later", { eventType: "user.created", payload: {} }, { idempotencyKey: k3 }), 404,
    "message.create in a missing app -> 404 (with an idempotencyKey)");
  await svix.application.create({ name: "later", uid: "conf-later" });
  const z = await svix.message.create("conf-later", { eventType: "user.created", payload: {} }, { idempotencyKey: k3 });
  like(z.id, ID("msg_"), "the same key succeeds once the app exists (errors are not cached)");
});

// ------------------------------------------------------------ errors and URLs
await section("errors", async () => {
  const e = await expectApi(svix.application.get("app_2YBXZIko2xmy0s5Rm9N5U7PhHgu"), 404, "missing application -> 404");
  errorBody(e, "not_found", "missing application");

  const bad = new Svix("not-the-token", { serverUrl: URL_, ...opts });
  const e401 = await expectApi(bad.application.list(), 401, "a bad token -> 401");
  errorBody(e401, "authentication_failed", "bad token");
  await expectApi(bad.message.create(app.id, { eventType: "user.created", payload: {} }), 401, "a bad token cannot create messages");
  const e401b = await expectApi(new Svix("", { serverUrl: URL_, ...opts }).application.list(), 401, "an empty token -> 401");
  errorBody(e401b, "authentication_failed", "empty token");
});

await section("serverUrl with a trailing slash", async () => {
  const slash = new Svix(TOKEN, { serverUrl: URL_ + "/", ...opts });
  const a = await slash.application.get(app.id);
  if (V2) ok(new URL(last().url).pathname.startsWith("/api/v1/app/"), "2.x drops the / ending serverUrl", lastReq());
  else ok(last().url.includes("//api/v1/app/"), "1.x sends //api/v1/... for a serverUrl ending in /", lastReq());
  is(a.id, app.id, "application.get through //api/v1 works");
  const l = await slash.message.list("conf-app", { limit: 1 });
  is(l.data.length, 1, "message.list through //api/v1 works");
  const m = await slash.message.create(app.id, { eventType: "user.created", payload: { s: 1 } });
  like(m.id, ID("msg_"), "message.create through //api/v1 works");
  is(await slash.health.get(), undefined, "health.get through //api/v1 works");
});

// ------------------------------------------------------------ attempts, resend, recover
// Real deliveries: HOOKD_RECEIVER_URL is the test receiver (tests/helpers/
// receiver.c), whose paths choose the answer: .../ok is 200, .../status/500
// is 500. Deliveries are asynchronous, so the checks poll (bounded).
const RECV = process.env.HOOKD_RECEIVER_URL;
async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const manualCount = async (appId, epId) =>
  (await svix.messageAttempt.listByEndpoint(appId, epId)).data.filter((x) => x.triggerType === 1).length;

let att; // { app, good, bad, m, okAttempt }
await section("message attempts", async () => {
  if (!RECV) return skip("message attempts", "HOOKD_RECEIVER_URL is not set");
  const a = await svix.application.create({ name: "Attempts", uid: "conf-attempts" });
  const good = await svix.endpoint.create(a.id, { url: `${RECV}/conf/ok`, uid: "good" });
  const bad = await svix.endpoint.create(a.id, { url: `${RECV}/conf/status/500`, uid: "bad" });
  const m = await svix.message.create(a.id, { eventType: "user.created", eventId: "att-1", payload: { a: 1 } });
  const okList = await until(async () => {
    const l = await svix.messageAttempt.listByEndpoint(a.id, good.id);
    return l.data.length ? l : null;
  });
  if (!ok(okList, "messageAttempt.listByEndpoint lists the delivery to the ok endpoint", lastReq())) return;
  const at = okList.data[0];
  like(at.id, ID("atmpt_"), "attempt id is atmpt_ + 27 base62");
  is([at.msgId, at.endpointId, at.url, at.status, at.statusText, at.responseStatusCode, at.triggerType],
    [m.id, good.id, `${RECV}/conf/ok`, 0, "success", 200, 0],
    "successful attempt: msgId, endpointId, url, status 0 success, code 200, triggerType 0");
  ok(isDate(at.timestamp) && Math.abs(at.timestamp.getTime() - Date.now()) < 60000, "attempt timestamp parses and is now",
    `got: ${show(at.timestamp)}`);
  ok(typeof at.response === "string" && typeof at.responseDurationMs === "number",
    "response is a string, responseDurationMs a number", `got: ${show(at)}`);
  is([okList.done, okList.iterator], [true, at.id], "listByEndpoint: done, iterator = last attempt id");

  const badList = await until(async () => {
    const l = await svix.messageAttempt.listByEndpoint(a.id, bad.id);
    return l.data.length ? l : null;
  });
  if (!ok(badList, "the failed delivery is listed", lastReq())) return;
  is([badList.data[0].status, badList.data[0].statusText, badList.data[0].responseStatusCode], [2, "fail", 500],
    "failed attempt: status 2 fail, code 500");

  const byMsg = await svix.messageAttempt.listByMsg(a.id, m.id);
  is([...new Set(byMsg.data.map((x) => x.endpointId))].sort(), sorted([good.id, bad.id]),
    "messageAttempt.listByMsg lists the attempts to both endpoints");
  ok(byMsg.data.some((x) => x.id === at.id), "listByMsg contains the successful attempt", `got: ${show(byMsg.data)}`);
  const byEvt = await svix.messageAttempt.listByMsg("conf-attempts", "att-1", { endpointId: good.id });
  is(byEvt.data.map((x) => x.id), [at.id], "listByMsg by app uid and eventId, endpointId filter");
  is((await svix.messageAttempt.listByEndpoint(a.id, bad.id, { statusCodeClass: 500 })).data.length >= 1, true,
    "listByEndpoint statusCodeClass 500 keeps the failure");
  ok(last().url.includes("status_code_class=500"), "statusCodeClass is sent as status_code_class", lastReq());
  is((await svix.messageAttempt.listByEndpoint(a.id, bad.id, { status: 0 })).data, [], "listByEndpoint status 0 on the failing endpoint -> none");
  is((await svix.messageAttempt.listByEndpoint(a.id, good.id, { withContent: false })).data[0].response, "{}",
    "withContent:false -> response \"{}\"");
  const withMsg = await svix.messageAttempt.listByEndpoint(a.id, good.id, { withMsg: true });
  is(withMsg.data[0].msg && [withMsg.data[0].msg.id, withMsg.data[0].msg.eventId], [m.id, "att-1"], "withMsg:true adds the message");

  const got = await svix.messageAttempt.get(a.id, m.id, at.id);
  is([got.id, got.msgId, got.status], [at.id, m.id, 0], "messageAttempt.get");
  const e404 = await expectApi(svix.messageAttempt.get(a.id, m.id, "atmpt_2YBXZIko2xmy0s5Rm9N5U7PhHgu"), 404,
    "messageAttempt.get of a missing attempt -> 404");
  errorBody(e404, "not_found", "missing attempt");
  await expectApi(svix.messageAttempt.listByEndpoint(a.id, "no-such-ep"), 404, "listByEndpoint of a missing endpoint -> 404");
  att = { app: a, good, bad, m };
});

await section("messageAttempt.resend", async () => {
  if (!att) return skip("messageAttempt.resend", "no attempts to resend");
  const r = await svix.messageAttempt.resend(att.app.id, att.m.id, att.bad.id);
  is(last().status, 202, "messageAttempt.resend answers 202");
  ok(r !== null && typeof r === "object", "resend resolves with an object (the body is {})", `got: ${show(r)}`);
  ok(await until(async () => (await manualCount(att.app.id, att.bad.id)) >= 1),
    "resend produces a manual attempt (triggerType 1)");
  await expectApi(svix.messageAttempt.resend(att.app.id, "msg_2YBXZIko2xmy0s5Rm9N5U7PhHgu", att.bad.id), 404,
    "resend of a missing message -> 404");
  await expectApi(svix.messageAttempt.resend(att.app.id, att.m.id, "no-such-ep"), 404,
    "resend to a missing endpoint -> 404");
});

await section("endpoint.recover", async () => {
  if (!att) return skip("endpoint.recover", "no attempts to recover");
  const before = await manualCount(att.app.id, att.bad.id);
  const rec = await svix.endpoint.recover(att.app.id, att.bad.id, { since: new Date(Date.now() - 3600e3) });
  is(last().status, 202, "endpoint.recover answers 202");
  like(rec.id, ID("qtask_"), "RecoverOut id is qtask_ + 27 base62");
  is([rec.status, rec.task], ["running", "endpoint.recover"], "RecoverOut status and task");
  ok(isDate(rec.updatedAt), "RecoverOut updatedAt parses as a date", `got: ${show(rec.updatedAt)}`);
  ok(await until(async () => (await manualCount(att.app.id, att.bad.id)) > before),
    "recover sends the failed message again (one more manual attempt)");
  const wide = await expectApi(svix.endpoint.recover(att.app.id, att.bad.id, { since: new Date(Date.now() - 15 * 86400e3) }),
    422, "recover over more than 14 days -> 422");
  validationBody(wide, "recover window");
  await expectApi(svix.endpoint.recover(att.app.id, "no-such-ep", { since: new Date(Date.now() - 3600e3) }), 404,
    "recover of a missing endpoint -> 404");
});

// ------------------------------------------------------------ signatures, by the official verifier
// The receiver's echo path answers with the request it got (headers,
// signature, body), which hookd keeps as the attempt's response: so the
// delivery, byte for byte, can be checked with svix's own Webhook class.
async function echoed(appId, epId, count) {
  const l = await until(async () => {
    const x = await svix.messageAttempt.listByEndpoint(appId, epId, WITH);
    return x.data.length >= count ? x : null;
  });
  return l ? JSON.parse(l.data[0].response) : null;
}
function verifies(secret, echo, body = echo.body) {
  const headers = { "webhook-id": echo.id, "webhook-timestamp": String(echo.ts), "webhook-signature": echo.sig };
  try {
    const v = new Webhook(secret).verify(body, headers);
    return V2 ? JSON.parse(body) : v;   // 2.x's verify returns nothing; both throw on a bad signature
  } catch (e) {
    return e;
  }
}
await section("signatures checked by svix's Webhook.verify", async () => {
  if (!RECV) return skip("signatures", "HOOKD_RECEIVER_URL is not set");
  const a = await svix.application.create({ name: "Signed", uid: "conf-signed" });
  const ep = await svix.endpoint.create(a.id, { url: `${RECV}/conf/echo`, uid: "echo" });
  const s1 = (await svix.endpoint.getSecret(a.id, ep.id)).key;
  const payload = { text: "h\u00e9llo \u2603 \"quoted\"", n: 12345678901, nested: { list: [1, 2.5, null] } };
  const m = await svix.message.create(a.id, { eventType: "user.created", payload });
  const echo = await echoed(a.id, ep.id, 1);
  if (!ok(echo && echo.echo, "the echo endpoint answered with the request", lastReq())) return;
  is(echo.id, m.id, "webhook-id is the message id");
  const got = verifies(s1, echo);
  ok(!(got instanceof Error), "Webhook.verify accepts the delivery", `got: ${show(got)}`);
  is(got, payload, "and gives back the payload as sent");
  ok(verifies(s1, echo, echo.body.replace("12345678901", "12345678902")) instanceof Error,
    "a changed body fails Webhook.verify");
  // a rotated key keeps signing through its grace period: one v1 entry each
  await svix.endpoint.rotateSecret(a.id, ep.id, {});
  const s2 = (await svix.endpoint.getSecret(a.id, ep.id)).key;
  await svix.message.create(a.id, { eventType: "user.created", payload: { after: "rotation" } });
  const echo2 = await echoed(a.id, ep.id, 2);
  if (!ok(echo2 && echo2.id !== m.id, "the message after the rotation was delivered", lastReq())) return;
  is(echo2.sig.split(" ").length, 2, "two v1 entries: the new key and the old one in its grace period");
  ok(!(verifies(s2, echo2) instanceof Error), "Webhook.verify accepts it with the new secret");
  ok(!(verifies(s1, echo2) instanceof Error), "and with the old one");
  ok(verifies("whsec_" + Buffer.alloc(24, 7).toString("base64"), echo2) instanceof Error,
    "and refuses it with a key the endpoint never had");
});

// ------------------------------------------------------------ whole run
{
  const fives = requests.filter((r) => r.status === null || r.status >= 500);
  ok(fives.length === 0, "no request got a 5xx or a network error (the SDK would have retried it)",
    ...fives.map((r) => `${r.method} ${r.url} -> ${r.status}`));
  const redirected = requests.filter((r) => r.redirected);
  ok(redirected.length === 0, "no request was redirected", ...redirected.map((r) => `${r.method} ${r.url} -> ${r.status}`));
}

console.log(`1..${n}`);
if (failed) diag(`failed ${failed} of ${n}`);
process.exitCode = failed ? 1 : 0;
