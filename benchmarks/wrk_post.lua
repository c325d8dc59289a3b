-- wrk script of benchmarks/serving.py: POSTs the JSON bodies of a file (one a line) in turn,
-- counts the answers by status, and prints one JSON line (prefix WRK_JSON) when done.
--   wrk -t1 -c8 -d15s --latency -s benchmarks/wrk_post.lua URL -- bodies.jsonl

local requests = {}
local next_request = 1
statuses = {}  -- global: done() reads each thread's table through thread:get
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   for line in io.lines(args[1]) do
      local headers = { ["Content-Type"] = "application/json" }
      table.insert(requests, wrk.format("POST", nil, headers, line))
   end
   if #requests == 0 then
      error("no request bodies in " .. tostring(args[1]))
   end
end

function request()
   local req = requests[next_request]
   next_request = next_request % #requests + 1
   return req
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, table.concat(parts, ", "),
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean))
end
