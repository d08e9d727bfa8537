-- wrk script: POST the file named by the BODY environment variable.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

-- Prints the figures run.sh reads: non-2xx count, p50 and p99 in ms.
done = function(summary, latency, requests)
  io.write(string.format("non2xx=%d p50_ms=%.3f p99_ms=%.3f\n", summary.errors.status,
           latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
