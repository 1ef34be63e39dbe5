-- wrk script: POSTs the bodies of a file (one JSON body per line) in turn, each once, with a
-- bearer token. Each thread takes every Nth line so that no body is sent twice.
--   BODIES=file TOKEN=… wrk -t2 -c16 -d10s -s bench/wrk-bodies.lua http://127.0.0.1:8080/api/v1/visits
local bodies = {}
local threads = {}
local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    local n = tonumber(os.getenv("THREADS") or "1")
    local i = 0
    for line in io.lines(os.getenv("BODIES")) do
        if i % n == id then
            table.insert(bodies, line)
        end
        i = i + 1
    end
    next_body = 1
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
    local b = bodies[next_body]
    if b == nil then
        b = bodies[#bodies]
    end
    next_body = next_body + 1
    return wrk.format(nil, nil, nil, b)
end
