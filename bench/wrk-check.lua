-- wrk script for bench/load.sh: rotates the requests over several session cookies and checks
-- every response (2xx, and the body contains the marker: the signed-in profile, not the guest
-- page or an error page). Prints one "check:" line that bench/wrk.mjs parses.
--
--   wrk ... -s bench/wrk-check.lua URL -- COOKIE_FILE MARKER
-- COOKIE_FILE: one "name=value" cookie per line. MARKER: plain text every good body contains.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  local file = args[1] and io.open(args[1], "r")
  if file then
    for line in file:lines() do
      if #line > 0 then table.insert(cookies, line) end
    end
    file:close()
  end
  marker = args[2]
  responses, non_2xx, missing_marker = 0, 0, 0
  next_cookie = (id or 0) % math.max(#cookies, 1)
end

function request()
  if #cookies == 0 then return wrk.format() end
  next_cookie = next_cookie % #cookies + 1
  return wrk.format(nil, nil, { ["Cookie"] = cookies[next_cookie] })
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  elseif marker and not string.find(body, marker, 1, true) then
    missing_marker = missing_marker + 1
  end
end

function done(summary, latency, requests)
  local r, n, m = 0, 0, 0
  for _, thread in ipairs(threads) do
    r = r + thread:get("responses")
    n = n + thread:get("non_2xx")
    m = m + thread:get("missing_marker")
  end
  io.write(string.format("check: responses=%d non_2xx=%d missing_marker=%d\n", r, n, m))
end
