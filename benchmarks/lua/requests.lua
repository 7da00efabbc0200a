-- Sends the requests of a file in turn; each wrk thread takes every n-th line.
-- wrk -s requests.lua URL -- FILE NTHREADS
-- A line: METHOD <TAB> PATH <TAB> Name: value <US> Name: value ... <TAB> BODY
-- After the last line a thread starts over (`wraps` counts how often).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs = {}
local next_index = 0
wraps = 0
sent = 0

local function split(s, sep)
  local out = {}
  local start = 1
  while true do
    local i = string.find(s, sep, start, true)
    if not i then
      table.insert(out, string.sub(s, start))
      return out
    end
    table.insert(out, string.sub(s, start, i - 1))
    start = i + #sep
  end
end

function init(args)
  local nthreads = tonumber(args[2] or "1")
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == id then
      local f = split(line, "\t")
      local headers = {}
      if f[3] ~= "" then
        for _, h in ipairs(split(f[3], "\31")) do
          local colon = string.find(h, ": ", 1, true)
          headers[string.sub(h, 1, colon - 1)] = string.sub(h, colon + 2)
        end
      end
      local body = f[4]
      if body == "" then body = nil end
      table.insert(reqs, wrk.format(f[1], f[2], headers, body))
    end
    n = n + 1
  end
end

function request()
  next_index = next_index + 1
  if next_index > #reqs then
    next_index = 1
    wraps = wraps + 1
  end
  sent = sent + 1
  return reqs[next_index]
end

function done(summary, latency, requests)
  local wrapped, total = 0, 0
  for _, t in ipairs(threads) do
    wrapped = wrapped + t:get("wraps")
    total = total + t:get("sent")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d timeouts=%d wraps=%d sent=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write, e.timeout, wrapped, total))
end
