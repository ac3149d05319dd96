-- The latency line every benchmark script prints (wrk calls done() once).
function done(summary, latency, requests)
  io.write(string.format("p50=%.2fms p99=%.2fms p99.9=%.2fms errors=%d non2xx=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
