-- wrk script: Steadfast's delivery-status webhooks, exactly WEBHOOKS of
-- them over all threads. Each thread takes every THREADS-th line of
-- CONSIGNMENTS ("order_id parcel_status", the booked parcels) and its share
-- of the webhooks. Of every ten, about eight move a parcel on (booked ->
-- pending or hold, pending -> delivered, partly delivered, cancelled or
-- hold, hold -> pending or delivered), one repeats a parcel's last status
-- (a duplicate) and one comes late (an earlier stage than the parcel's).
-- wrk cannot stop at a count: `delay` hands out the thread's share, then
-- parks each connection; the thread stops at its last answer, and the last
-- thread to finish (each leaves a file in DONE_DIR) sends wrk SIGINT, on
-- which it stops waiting out -d and reports (its time runs until then).
local ffi = require("ffi")
ffi.cdef [[ int kill(int pid, int sig); int getpid(void); ]]
local done_dir = os.getenv("DONE_DIR")
local file = os.getenv("CONSIGNMENTS")
local limit = tonumber(os.getenv("WEBHOOKS") or "10000")
local nthreads = tonumber(os.getenv("THREADS") or "2")
local auth = "Bearer " .. os.getenv("TOKEN")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

function init(args)
  share = math.floor(limit / nthreads) + ((index <= limit % nthreads) and 1 or 0)
  parcels, touched = {}, {}
  local n = 0
  for line in io.lines(file) do
    n = n + 1
    if n % nthreads == index - 1 then
      local id, status = line:match("(%d+)%s+(%S+)")
      -- Where the parcel is, in Steadfast's words.
      local at = status == "booked" and "in_review" or "pending"
      parcels[#parcels + 1] = { id = tonumber(id), at = at }
    end
  end
  math.randomseed(os.time() * 100 + index)
  reserved, answered = 0, 0
  forward, duplicate, late = 0, 0, 0
  headers = { ["Authorization"] = auth, ["Content-Type"] = "application/json" }
end

local final = { delivered = true, partial_delivered = true, cancelled = true }

local function pick(choices)
  local r = math.random()
  for _, c in ipairs(choices) do
    if r < c[2] then return c[1] end
    r = r - c[2]
  end
  return choices[#choices][1]
end

local function next_status(at)
  if at == "in_review" then
    return pick({ { "pending", 0.9 }, { "hold", 0.1 } })
  elseif at == "pending" then
    return pick({ { "delivered", 0.85 }, { "partial_delivered", 0.05 },
                  { "cancelled", 0.05 }, { "hold", 0.05 } })
  else -- hold
    return pick({ { "pending", 0.5 }, { "delivered", 0.5 } })
  end
end

local function body(p, status)
  local cod = (status == "delivered" or status == "partial_delivered") and 1500 or 0
  return string.format('{"notification_type":"delivery_status","consignment_id":%d,'
    .. '"invoice":"CM-%06d","cod_amount":%.2f,"status":"%s","delivery_charge":60.00,'
    .. '"tracking_message":"Parcel %s","updated_at":"%s"}',
    p.id, p.id, cod, status, status, os.date("!%Y-%m-%d %H:%M:%S"))
end

function delay()
  if reserved >= share then
    return 3600000 -- this thread's share is out: the connection waits for the stop
  end
  reserved = reserved + 1
  return 0
end

request = function()
  if reserved == 0 then
    -- wrk checks the script with one call before the run: not sent.
    return wrk.format("POST", "/webhooks/couriers/steadfast", headers, "{}")
  end
  local r = math.random()
  local p, status
  if #touched > 0 and r < 0.10 then
    -- The same news again.
    p = touched[math.random(#touched)]
    status = p.at
    duplicate = duplicate + 1
  elseif #touched > 0 and r < 0.20 then
    -- News of an earlier stage, after a later one.
    p = touched[math.random(#touched)]
    status = final[p.at] and "pending" or "in_review"
    late = late + 1
  else
    local tries = 0
    repeat
      p = parcels[math.random(#parcels)]
      tries = tries + 1
    until not final[p.at] or tries > 1000
    if not p.touched then
      p.touched = true
      touched[#touched + 1] = p
    end
    status = next_status(p.at)
    p.at = status
    forward = forward + 1
  end
  return wrk.format("POST", "/webhooks/couriers/steadfast", headers, body(p, status))
end

function response(status, headers, body)
  answered = answered + 1
  if answered == share then
    wrk.thread:stop()
    io.open(done_dir .. "/" .. index, "w"):close()
    for i = 1, nthreads do
      local f = io.open(done_dir .. "/" .. i)
      if not f then return end
      f:close()
    end
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

function done(summary, latency, requests)
  local f, d, l = 0, 0, 0
  for _, t in ipairs(threads) do
    f, d, l = f + t:get("forward"), d + t:get("duplicate"), l + t:get("late")
  end
  io.write(string.format("Sent: %d forward, %d duplicate, %d late\n", f, d, l))
end
