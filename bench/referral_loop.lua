-- wrk script: the write path, a referral's way through the closed loop, over and over.
-- The sender (SENDER_TOKEN) creates a referral of CLIENT_ID to RECIPIENT_ID in LIFE_DOMAIN; the
-- recipient (RECIPIENT_TOKEN) then moves it to RECEIVED, ACCEPTED and IN_PROGRESS, each with the
-- version it read. Four mutations a loop; every answer is checked, and one without the expected
-- data counts as an error (printed at the end with the first such answer).
-- Run it with one connection per thread (-t N -c N): wrk keeps one Lua state per thread, and the
-- loop's state (which referral, which version) belongs to one connection.
local sender = "Bearer " .. os.getenv("SENDER_TOKEN")
local recipient = "Bearer " .. os.getenv("RECIPIENT_TOKEN")
local client = os.getenv("CLIENT_ID")
local recipient_id = os.getenv("RECIPIENT_ID")
local life_domain = os.getenv("LIFE_DOMAIN")
local steps = { "RECEIVED", "ACCEPTED", "IN_PROGRESS" }

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local step, id, version = 0, nil, nil
-- Globals, so that done() can read them from each thread.
failures, first_failure = 0, ""

local function post(token, body)
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/graphql-response+json",
    ["Authorization"] = token,
  }, body)
end

function request()
  if step == 0 then
    return post(sender, string.format(
      '{"query":"mutation Refer($input: CreateReferralInput!) { createReferral(input: $input) { id version } }",'
        .. '"variables":{"input":{"clientId":"%s","recipientId":"%s","lifeDomain":"%s","reason":"bench loop"}}}',
      client, recipient_id, life_domain))
  end
  return post(recipient, string.format(
    '{"query":"mutation Move($id: ID!, $status: ReferralStatus!, $v: Int!) { changeReferralStatus(id: $id, status: $status, expectedVersion: $v) { id version } }",'
      .. '"variables":{"id":"%s","status":"%s","v":%d}}',
    id, steps[step], version))
end

function response(status, headers, body)
  local new_id, new_version = body:match('"id":"([^"]+)","version":(%d+)')
  if status ~= 200 or not new_id or body:find('"errors"') then
    failures = failures + 1
    if first_failure == "" then first_failure = body:sub(1, 400) end
    step = 0 -- start over with a new referral
    return
  end
  id, version = new_id, tonumber(new_version)
  step = (step + 1) % 4
end

function done(summary, latency, requests)
  local total, example = 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("failures")
    local f = thread:get("first_failure")
    if example == "" and f and f ~= "" then example = f end
  end
  io.write(string.format("loop failures: %d\n", total))
  if example ~= "" then io.write("first failure: " .. example .. "\n") end
end
