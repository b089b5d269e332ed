-- GET /api/v1/articles/{id}: one of the user's own articles, in full
-- (~6 KB markdown and ~8 KB HTML, TOASTed).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
   local u = user()
   return wrk.format("GET", "/api/v1/articles/" .. u.articles[math.random(#u.articles)],
                     bearer(u))
end
