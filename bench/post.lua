-- wrk script: POSTs the GraphQL document in the file QUERY_FILE, with TOKEN as bearer token when
-- set. With INTERVAL_MS, every connection waits that long between its requests (the soak's pace).
local f = assert(io.open(os.getenv("QUERY_FILE"), "r"))
local query = f:read("*a")
f:close()
local function escape(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n'))
end
wrk.method = "POST"
wrk.body = '{"query":"' .. escape(query) .. '"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

local interval = tonumber(os.getenv("INTERVAL_MS") or "")
if interval then
  function delay() return interval end
end
