-- GET /api/v1/articles?limit=20 with a bearer token (a JWT).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
   return wrk.format("GET", "/api/v1/articles?limit=20", bearer(user()))
end
