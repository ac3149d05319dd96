-- Password sign-ins for one user (EMAIL, PASSWORD from the environment).
function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["apikey"] = os.getenv("APIKEY")},
    '{"email":"' .. os.getenv("EMAIL") .. '","password":"' .. os.getenv("PASSWORD") .. '"}')
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
