-- Password sign-ins for one user (EMAIL, PASSWORD from the environment).
function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["apikey"] = os.getenv("APIKEY")},
    '{"email":"' .. os.getenv("EMAIL") .. '","password":"' .. os.getenv("PASSWORD") .. '"}')
end

function done(summary, latency, requests)
  io.write(string.format("p50=%.2fms p99=%.2fms p99.9=%.2fms errors=%d non2xx=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
