"""The Lua scripts of room input on Redis (``redis_inputs.py``): each touches the keys of one room only, so each is
atomic in that room's slot on a Redis Cluster."""

from __future__ import annotations

from captions.limits.redis import BUCKET_LUA

# An empty stream has no backlog whatever the count says (a count that drifted, e.g. Redis restarted between
# a send's two writes, mends itself at the room's next pause).
BACKLOG_LUA = """
local function backlog(stream, count)
  if redis.call('xlen', stream) == 0 then redis.call('del', count) return 0 end
  return tonumber(redis.call('get', count) or '0')
end
"""
# The frame goes only if the room's budget covers it and its backlog has room for it: the bucket, the stream and
# its count are in the room's slot, and a frame costs its gateway one round trip.
SEND_WITHIN = (
    BUCKET_LUA
    + BACKLOG_LUA
    + """
if redis.call('exists', KEYS[3]) == 1 then return '0' end
local size = tonumber(ARGV[5])
if backlog(KEYS[2], KEYS[4]) + size > tonumber(ARGV[4]) then return 'backlogged' end
local wait = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
if wait > 0 then return tostring(wait) end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 6))
redis.call('incrby', KEYS[4], size)
return '0'
"""
)
# Input for a deleted room (in flight while it was deleted) is dropped: the room's owner has already let its
# stream go, and nobody would ever read or delete it again. Control and text count in the backlog but are never
# refused: the presenter's event rate bounds them.
SEND = """
if redis.call('exists', KEYS[2]) == 1 then return 0 end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('incrby', KEYS[3], ARGV[1])
return 1
"""
# Settled input leaves the stream and the backlog (only what this call deleted: an entry acknowledged twice, by an
# old owner and the new, is counted off once).
ACKNOWLEDGE = """
local n = #ARGV / 2
local freed = 0
for i = 1, n do
  redis.call('xack', KEYS[1], 'transcribers', ARGV[i])
  if redis.call('xdel', KEYS[1], ARGV[i]) == 1 then freed = freed + tonumber(ARGV[n + i]) end
end
if freed > 0 and redis.call('decrby', KEYS[2], freed) <= 0 then redis.call('del', KEYS[2]) end
return freed
"""
# A lease that expired while Redis was down (nobody else took it) is simply kept; one that went with its room's
# input (the session finished: ``FORGET_IF_EMPTY``) is not brought back by a renewal that was on its way.
RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder and redis.call('exists', KEYS[2]) == 1 then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
# A room nobody took in time is withdrawn (its empty stream goes), unless a transcriber took it meanwhile.
WITHDRAW_IF_UNOWNED = """
if redis.call('exists', KEYS[1]) == 1 then return 1 end
if redis.call('xlen', KEYS[2]) == 0 then redis.call('del', KEYS[2], KEYS[3]) end
return 0
"""
# A finished room whose stream is empty is forgotten; one that already has new input stays with its owner.
FORGET_IF_EMPTY = """
if redis.call('xlen', KEYS[1]) > 0 then return 0 end
redis.call('del', KEYS[1], KEYS[3])
if redis.call('get', KEYS[2]) == ARGV[1] then redis.call('del', KEYS[2]) end
return 1
"""
