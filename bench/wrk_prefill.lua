-- wrk script: POST /v1/prefill, each request with the next applicant assertion of a pool.
--
-- Environment: WRK_POOL  file with one assertion (JWT) per line; every line is used once per thread
--                        stride (an assertion's jti is good for one use; a reused one gets 401).
--              WRK_KEY   the frontend client key (Authorization: Bearer).
--              WRK_BODY  request body (default "{}": every matter of the flexible-employment theme).
-- done() prints one line "WRK_JSON {...}" with counts and latency percentiles in microseconds.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("WRK_POOL")
  local key = os.getenv("WRK_KEY")
  body = os.getenv("WRK_BODY") or "{}"
  pool = {}
  local index = 0
  local count = tonumber(os.getenv("WRK_THREADS") or "1")
  for line in io.lines(path) do
    if index % count == id then
      pool[#pool + 1] = line
    end
    index = index + 1
  end
  next_index = 0
  headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }
end

function request()
  next_index = next_index + 1
  if next_index > #pool then
    next_index = 1 -- exhausted: reused assertions are refused (401) and counted as errors
  end
  headers["X-Applicant-Assertion"] = pool[next_index]
  return wrk.format("POST", "/v1/prefill", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
