-- The worker-memory check: list, list by API key, get, create, and a
-- pipeline start and end, in turn (one connection per thread).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local step, n, run_user, run_id = 0, 0, nil, nil

request = function()
   step = step % 6 + 1
   local u = user()
   if step == 1 then
      return wrk.format("GET", "/api/v1/articles?limit=20", bearer(u))
   elseif step == 2 then
      return wrk.format("GET", "/api/v1/articles?limit=20", { ["X-API-Key"] = u.key })
   elseif step == 3 then
      return wrk.format("GET", "/api/v1/articles/" .. u.articles[math.random(#u.articles)], bearer(u))
   elseif step == 4 then
      n = n + 1
      return wrk.format("POST", "/api/v1/articles", json(bearer(u)),
                        string.format('{"title":"Mixed %d-%d-%d"}', tid, n, math.random(1e9)))
   elseif step == 5 then
      run_user = u
      return wrk.format("POST", "/api/v1/pipelines", json(bearer(u)), '{"estimated_cost":"0.0100"}')
   end
   return wrk.format("PATCH", "/api/v1/pipelines/" .. (run_id or "00000000-0000-4000-8000-000000000000"),
                     json(bearer(run_user)), '{"status":"completed","total_cost":"0.0100"}')
end

response = function(status, headers, body)
   counted(status)
   if step == 5 then run_id = status == 201 and body:match('"id":"([0-9a-f-]+)"') or nil end
end
