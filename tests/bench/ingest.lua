-- SPDX-License-Identifier: Apache-2.0
-- tests/bench/ingest.lua - wrk script for the ingest benchmark.
--
--   HOOKD_TOKEN=... [HOOKD_APP=bench] wrk -c 256 -t 2 -d 10s -s tests/bench/ingest.lua http://127.0.0.1:PORT
--
-- Every request is the same 1 KiB message to the app HOOKD_APP ("bench"
-- unless set; tests/bench/cluster.sh gives each of its runs its own). The request
-- is built once, so wrk sends it without calling Lua per request, and there
-- is no response() hook (it would make wrk parse every response in Lua and
-- slow the client down): wrk's own count of non-2xx/3xx answers
-- (summary.errors.status) is enough, since hookd never answers 3xx here.
--
-- done() prints one line that tests/bench/ingest.sh parses:
--   BENCH requests=N ok=N non2xx=N sockerr=N seconds=S rps=R ok_rps=R p50_ms=L p99_ms=L

local token = os.getenv("HOOKD_TOKEN") or ""

-- A 1024-byte body: the fixed fields plus a "blob" padded to fill the rest.
local function message(size)
   local head = '{"eventType":"user.created","payload":{"type":"user.created",'
      .. '"user":{"id":"usr_2Qv8bench","email":"bench@example.com","name":"Bench User",'
      .. '"plan":"pro","tags":["a","b","c"]},"blob":"'
   local tail = '"}}'
   local pad = size - #head - #tail
   local alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
   local t = {}
   for i = 1, pad do
      local k = (i * 7) % #alphabet + 1
      t[i] = alphabet:sub(k, k)
   end
   return head .. table.concat(t) .. tail
end

wrk.method = "POST"
wrk.path = "/api/v1/app/" .. (os.getenv("HOOKD_APP") or "bench") .. "/msg"
wrk.body = message(1024)
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   local non2xx = e.status
   local ok = summary.requests - non2xx
   io.write(string.format(
      "BENCH requests=%d ok=%d non2xx=%d sockerr=%d seconds=%.3f rps=%.0f ok_rps=%.0f p50_ms=%.3f p99_ms=%.3f\n",
      summary.requests, ok, non2xx, e.connect + e.read + e.write + e.timeout, seconds,
      summary.requests / seconds, ok / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
