-- GET with the headers from the environment (APIKEY, BEARER optional),
-- reporting p50/p99/p99.9.
function request()
  local h = {["apikey"] = os.getenv("APIKEY")}
  if os.getenv("BEARER") then
    h["Authorization"] = "Bearer " .. os.getenv("BEARER")
  end
  return wrk.format("GET", nil, h)
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
