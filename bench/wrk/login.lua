-- POST /api/v1/auth/login with the right password (one crypt_rn each).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
   local u = user()
   return wrk.format("POST", "/api/v1/auth/login", json({}),
                     string.format('{"email":"%s","password":"%s"}', u.email, u.password))
end
