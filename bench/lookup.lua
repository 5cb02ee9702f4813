-- wrk script: each request scans a random existing order, the way a
-- scanner sends it (AIM prefix, trailing CR LF).
local max_id = tonumber(os.getenv("MAX_ID") or "1000000")
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local id = math.random(1, max_id)
  local path = string.format("/api/v1/orders/by-code/%%5DC0CM-%06d%%0D%%0A", id)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
