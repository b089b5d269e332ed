-- GET /api/v1/articles?limit=20 with an API key.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
   return wrk.format("GET", "/api/v1/articles?limit=20",
                     { ["X-API-Key"] = user().key })
end
