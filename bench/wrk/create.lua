-- POST /api/v1/articles with a small body; titles are unique, so the slug
-- made from the title is free at the first try.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = 0
request = function()
   n = n + 1
   local body = string.format('{"title":"Created by wrk %d-%d-%d","content_markdown":"Short body.","status":"draft"}',
                              tid, n, math.random(1e9))
   return wrk.format("POST", "/api/v1/articles", json(bearer(user())), body)
end
