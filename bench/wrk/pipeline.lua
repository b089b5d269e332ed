-- A pipeline run: POST /api/v1/pipelines, then PATCH it to completed, by
-- the same user.  bench/run gives wrk one connection per thread, so each
-- thread's requests and answers alternate and the run started by the last
-- answer is the one to complete.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local pending_user, pending_id, last_user

request = function()
   if pending_id then
      local u, id = pending_user, pending_id
      pending_id = nil
      last_user = nil
      return wrk.format("PATCH", "/api/v1/pipelines/" .. id, json(bearer(u)),
                        '{"status":"completed","total_cost":"0.0100"}')
   end
   last_user = user()
   return wrk.format("POST", "/api/v1/pipelines", json(bearer(last_user)),
                     '{"estimated_cost":"0.0100"}')
end

response = function(status, headers, body)
   counted(status)
   if status == 201 and last_user then
      pending_user = last_user
      pending_id = body:match('"id":"([0-9a-f-]+)"')
   end
end
