-- Refresh-token rotation under load: every response's new refresh token is
-- used by a later request of the same thread, so no token is presented
-- twice (a reuse would revoke the user's sessions). Tokens come from
-- $TOKENS_FILE, one per line, shared out to threads round-robin; with
-- $TOKENS_SAVE set, the live ends of the chains are written there at the end
-- (so that another run can go on from them).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  local n = 0
  local nthreads = tonumber(os.getenv("WRK_THREADS"))
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if n % nthreads == id then
      table.insert(tokens, line)
    end
    n = n + 1
  end
  failures = 0
end

function request()
  local token = table.remove(tokens, 1)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["apikey"] = os.getenv("APIKEY")},
                    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if status == 200 and token then
    table.insert(tokens, token)
  else
    failures = failures + 1
  end
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local report = done
function done(summary, latency, requests)
  local save = os.getenv("TOKENS_SAVE")
  if save then
    local f = io.open(save, "w")
    for _, thread in ipairs(threads) do
      for _, token in ipairs(thread:get("tokens")) do
        f:write(token, "\n")
      end
    end
    f:close()
  end
  report(summary, latency, requests)
end
