-- bench/wrk/common.lua: what every scenario shares.  Loaded by each
-- scenario file; reads the credentials bench/run wrote (BENCH_CREDS): a
-- list of users, each {email, password, token, key, articles = {ids}}.
--
-- Every request picks a random user.  done() prints one line that bench/run reads:
--   BENCH requests=N duration_us=N p50_us=N p99_us=N non2xx=N socket_errors=N
creds = dofile(os.getenv("BENCH_CREDS"))
local threads = {}
non2xx = 0

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   math.randomseed(os.time() * 1000 + tid)
end

function user()
   return creds[math.random(#creds)]
end

function bearer(u)
   return { ["Authorization"] = "Bearer " .. u.token }
end

function json(h)
   h["Content-Type"] = "application/json"
   return h
end

-- Scenarios that define response() count their non-2xx themselves and
-- call this; the others rely on wrk's own count (status > 399), which is
-- the same thing for this API.
function counted(status)
   if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
   local bad = 0
   for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
   if response == nil then bad = summary.errors.status end
   local e = summary.errors
   io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
      summary.requests, summary.duration, latency:percentile(50),
      latency:percentile(99), bad, e.connect + e.read + e.write + e.timeout))
end
