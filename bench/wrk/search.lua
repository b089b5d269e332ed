-- GET /api/v1/articles?limit=20&q=article NNN with a bearer token (a JWT):
-- a title search (pg_trgm index) that matches a few of the user's
-- articles ("Bench article NNN", "... NNN0" to "... NNN9", ...).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
   return wrk.format("GET", "/api/v1/articles?limit=20&q=article%20" .. math.random(100, 999), bearer(user()))
end
