// SPDX-License-Identifier: Apache-2.0
// TAP helpers and client loading shared by the scripts of tests/svix
// (parity.mjs, opwebhook.mjs, apptoken.mjs). Each script runs once per
// client: SVIX_MODULE names the package, "svix" (1.x) or "svix2" (2.x, an
// npm alias in package.json), and every test name carries its version.

import { createRequire } from "node:module";
import { webcrypto } from "node:crypto";
import { isDeepStrictEqual, inspect } from "node:util";

// Node 18 (Debian 12's nodejs) has no global Web Crypto, which the clients
// use for idempotency keys and signatures: set it before they are loaded.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const require = createRequire(import.meta.url);
export const MOD = process.env.SVIX_MODULE || "svix";
let loaded;
try {
  loaded = require(MOD);   // 1.x is CommonJS
} catch (e) {
  loaded = await import(MOD);   // 2.x is an ES module
}
export const sdk = loaded;
export const SDK_VERSION = require(`${MOD}/package.json`).version;
export const SDK_MAJOR = Number(SDK_VERSION.split(".")[0]);
// one name per client run, for uids and paths: both runs share a server
export const RUN = MOD.replace(/[^a-z0-9]/g, "");

let n = 0;
let failed = 0;
export const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });
export const diag = (m) => { for (const l of String(m).split("\n")) process.stderr.write(`# ${l}\n`); };
export function ok(cond, name, ...why) {
  n++;
  console.log(`${cond ? "ok" : "not ok"} ${n} - [${SDK_VERSION}] ${name}`);
  if (!cond) {
    failed++;
    for (const w of why) diag(w);
  }
  return !!cond;
}
export const is = (got, want, name) =>
  ok(isDeepStrictEqual(got, want), name, `got:      ${show(got)}`, `expected: ${show(want)}`);
export const isDate = (d) => d instanceof Date && !Number.isNaN(d.getTime());
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// poll fn until it returns something truthy, at most ms
export async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(100);
  }
}

// The clients hide status codes on success: every client made with
// recordingFetch remembers each request's method, URL and status.
const requests = [];
export async function recordingFetch(url, init) {
  const rec = { method: init && init.method, url: String(url), status: null };
  requests.push(rec);
  const res = await fetch(url, init);
  rec.status = res.status;
  return res;
}
export const last = () => requests[requests.length - 1] || {};
export const lastReq = () => `last request: ${last().method} ${last().url} -> ${last().status}`;

// Run one group of checks; an unexpected exception fails the group, not the run.
export async function section(name, fn) {
  try {
    await fn();
  } catch (e) {
    ok(false, `${name}: no unexpected exception`,
      e instanceof sdk.ApiException ? `ApiException ${e.code} ${show(e.body)}` : (e && e.stack) || show(e), lastReq());
  }
}
// The call must reject with ApiException(code); returns the exception or null.
export async function expectApi(promise, code, name) {
  try {
    ok(false, name, `resolved with ${show(await promise)}`, lastReq());
    return null;
  } catch (e) {
    ok(e instanceof sdk.ApiException && e.code === code, name, `got ${e && e.code} ${show(e && e.body)}`, lastReq());
    return e;
  }
}

// The plan, and the exit status: 1 when any check failed.
export function done() {
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}

export function env(...names) {
  const v = names.map((k) => process.env[k]);
  if (v.some((x) => !x)) {
    console.log(`Bail out! ${names.join(", ")} must be set`);
    process.exit(1);
  }
  diag(`${MOD} ${SDK_VERSION}, node ${process.version}, server ${v[0]}`);
  return v;
}
