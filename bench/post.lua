-- POSTs the query in the file named by QUERY_FILE with the token in TOKEN.
local f = assert(io.open(os.getenv("QUERY_FILE"), "r"))
local query = f:read("*a")
f:close()
local function escape(s)
  return s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n')
end
wrk.method = "POST"
wrk.body = '{"query":"' .. escape(query) .. '"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
